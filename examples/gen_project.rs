//! Generate a large dbt-style project for benchmarks:
//! `cargo run --example gen_project -- DIR N [MIN_PARENTS MAX_PARENTS]` (default 5 20).
//!
//! Models are spread over folders of 100, each with realistic SQL: a `config(...)` call, refs to
//! MIN..=MAX earlier models (so the graph is a DAG), a macro call, a `var`, a Jinja loop and an
//! `is_incremental()` block; every folder has a schema YAML with two tests per model.
//! Deterministic: the same arguments give the same project.

use std::fmt::Write as _;
use std::path::Path;

/// A small deterministic generator (64-bit LCG), enough to spread refs.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % below as u64) as usize
    }
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| "big_project".to_owned());
    let count: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let min_parents: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(5).max(1);
    let max_parents: usize = args
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20)
        .max(min_parents);
    let root = Path::new(&dir);
    std::fs::create_dir_all(root.join("macros"))?;
    std::fs::write(
        root.join("ghforge_project.yml"),
        "name: big\nversion: \"1.0\"\nprofile: big\nvars:\n  start_date: '2024-01-01'\nmodels:\n  big:\n    +materialized: view\n    layer_000:\n      +materialized: table\n",
    )?;
    std::fs::write(
        root.join("macros/helpers.sql"),
        "{% macro safe_divide(a, b) -%}\n    case when {{ b }} = 0 then null else {{ a }} / {{ b }} end\n{%- endmacro %}\n\n{% macro hour_bucket(ts) -%}\n    {{ return(adapter.dispatch('hour_bucket')(ts)) }}\n{%- endmacro %}\n\n{% macro default__hour_bucket(ts) -%}\n    date_trunc('hour', {{ ts }})\n{%- endmacro %}\n",
    )?;
    let mut rng = Lcg(42);
    let per_folder = 100;
    for folder in 0..count.div_ceil(per_folder) {
        let folder_name = format!("layer_{folder:03}");
        let folder_path = root.join("models").join(&folder_name);
        std::fs::create_dir_all(&folder_path)?;
        let mut schema = String::from("version: 2\n\nmodels:\n");
        for index in folder * per_folder..((folder + 1) * per_folder).min(count) {
            let name = format!("m_{index:05}");
            let mut sql = String::new();
            let materialized = ["view", "table", "incremental"][index % 3];
            let _ = writeln!(
                sql,
                "{{{{ config(materialized='{materialized}', tags=['layer_{folder}', 'bench']) }}}}"
            );
            if index < 20 {
                let _ = writeln!(
                    sql,
                    "select {index} as id, timestamp '2024-01-01 00:00:00' as created_at, {index} * 10 as amount"
                );
            } else {
                let parents = min_parents + rng.next(max_parents - min_parents + 1);
                let mut chosen: Vec<usize> = (0..parents).map(|_| rng.next(index)).collect();
                chosen.sort_unstable();
                chosen.dedup();
                let _ = writeln!(sql, "with");
                for (i, parent) in chosen.iter().enumerate() {
                    let comma = if i + 1 == chosen.len() { "" } else { "," };
                    let _ = writeln!(
                        sql,
                        "    p{i} as (select id, created_at, amount from {{{{ ref('m_{parent:05}') }}}}){comma}"
                    );
                }
                let _ = writeln!(sql, "select");
                let _ = writeln!(sql, "    p0.id,");
                let _ = writeln!(
                    sql,
                    "    {{{{ hour_bucket('p0.created_at') }}}} as created_at,"
                );
                let _ = writeln!(
                    sql,
                    "    {{{{ safe_divide('p0.amount', '1 + p0.id') }}}} as ratio,"
                );
                let _ = writeln!(
                    sql,
                    "    {{% for i in range({}) %}}coalesce(p{{{{ i }}}}.amount, 0){{% if not loop.last %}} + {{% endif %}}{{% endfor %}} as amount",
                    chosen.len()
                );
                let _ = writeln!(sql, "from p0");
                for i in 1..chosen.len() {
                    let _ = writeln!(sql, "left join p{i} using (id)");
                }
                let _ = writeln!(
                    sql,
                    "where p0.created_at >= '{{{{ var(\"start_date\") }}}}'"
                );
                let _ = writeln!(
                    sql,
                    "{{% if is_incremental() %}}  and p0.created_at > (select max(created_at) from {{{{ this }}}}){{% endif %}}"
                );
            }
            std::fs::write(folder_path.join(format!("{name}.sql")), sql)?;
            let _ = writeln!(
                schema,
                "  - name: {name}\n    description: Generated model {index}.\n    columns:\n      - name: id\n        data_tests: [not_null, unique]"
            );
        }
        std::fs::write(folder_path.join("schema.yml"), schema)?;
    }
    println!("generated {count} models in {dir}");
    Ok(())
}
