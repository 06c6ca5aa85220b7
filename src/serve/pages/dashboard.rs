//! `/`: the dashboard. The freshness line is rendered by the server; the charts (events per
//! type over time, the most active repositories, developer scores, PR merge latency, bot share,
//! trending repositories) fetch the JSON API of this same server and draw with the vendored
//! Chart.js. `document.body.dataset.ready` turns `"true"` once every chart is drawn.

use axum::extract::State;
use axum::response::Html;

use super::{freshness, layout};
use crate::serve::api::AppState;

/// Canvas id, card title.
const CHARTS: [(&str, &str); 6] = [
    ("chart-events", "Events per type and hour"),
    (
        "chart-active",
        "Most active repositories (last 24 h of data)",
    ),
    ("chart-developers", "Developer scores (latest hour)"),
    ("chart-latency", "Pull request merge latency"),
    ("chart-bots", "Bot share per hour"),
    (
        "chart-trending",
        "Trending repositories (star growth, latest day)",
    ),
];

const SCRIPT: &str = r#"
<script src="/assets/chart.umd.min.js"></script>
<script>
(function () {
  const palette = ['#0969da','#1a7f37','#cf222e','#9a6700','#8250df','#bf3989','#1b7c83','#953800',
                   '#57606a','#4ac26b','#ff8182','#d4a72c','#c297ff','#ff80c8','#76e3ea','#ffb77c'];
  const get = (url) => fetch(url).then((r) => { if (!r.ok) throw new Error(url + ': ' + r.status); return r.json(); });
  // A fresh object per chart: Chart.js writes the resolved scales into the options it is given.
  const base = () => ({ animation: false, responsive: true, maintainAspectRatio: true });
  const draw = (id, config) => new Chart(document.getElementById(id), Object.assign({ options: base() }, config));
  const bar = (id, labels, label, data, horizontal) => draw(id, {
    type: 'bar',
    data: { labels, datasets: [{ label, data, backgroundColor: palette[0] }] },
    options: Object.assign(base(), horizontal ? { indexAxis: 'y' } : {}),
  });
  const jobs = [
    get('/api/events/hourly').then((d) => draw('chart-events', {
      type: 'line',
      options: Object.assign(base(), { aspectRatio: 1.4, plugins: { legend: { position: 'right', labels: { boxWidth: 10, font: { size: 10 } } } } }),
      data: { labels: d.hours, datasets: d.series.map((s, i) => ({
        label: s.type, data: s.events, borderColor: palette[i % palette.length], fill: false })) },
    })),
    get('/api/repositories/active?limit=10').then((d) =>
      bar('chart-active', d.repositories.map((r) => r.repo), 'events', d.repositories.map((r) => r.events), true)),
    get('/api/developers/scores?limit=10').then((d) =>
      bar('chart-developers', d.developers.map((x) => x.login), 'score', d.developers.map((x) => x.score), true)),
    get('/api/pull_requests/merge_latency').then((d) =>
      bar('chart-latency', d.buckets.map((b) => b.label), 'merged pull requests', d.buckets.map((b) => b.pull_requests), false)),
    get('/api/bots/share').then((d) => draw('chart-bots', {
      type: 'line',
      data: { labels: d.hours.map((h) => h.hour), datasets: [{ label: 'bot share', data: d.hours.map((h) => h.bot_share), borderColor: palette[2] }] },
    })),
    get('/api/repositories/trending?limit=10').then((d) =>
      bar('chart-trending', d.repositories.map((r) => r.repo), 'star growth', d.repositories.map((r) => r.star_growth), true)),
  ];
  Promise.allSettled(jobs).then((results) => {
    const failed = results.filter((r) => r.status === 'rejected');
    failed.forEach((f) => console.error(f.reason));
    document.body.dataset.failed = String(failed.length);
    document.body.dataset.ready = 'true';
  });
})();
</script>
"#;

pub async fn page(State(state): State<AppState>) -> Html<String> {
    let snapshot = state.current.get();
    let cards: String = CHARTS
        .iter()
        .map(|(id, title)| {
            format!(
                "<section class=\"card\"><h2>{title}</h2><canvas id=\"{id}\"></canvas></section>"
            )
        })
        .collect();
    let body = format!(
        "<h1>GitHub activity</h1>{}<div class=\"grid\">{cards}</div>",
        freshness(&snapshot.info)
    );
    layout("Dashboard", &body, SCRIPT)
}
