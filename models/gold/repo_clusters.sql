-- Each profiled repository (`repo_activity_profiles`) in the cluster of its nearest centroid
-- (`repo_cluster_centroids`), with the cluster's label and the distance to its centroid in
-- standardised units.
select
    p.repo_id,
    p.repo_name,
    n.cluster,
    c.label,
    sqrt(n.squared_distance) as distance
from (
    {{ nearest_centroid(ref('repo_activity_profiles'), ref('repo_cluster_centroids')) | indent(4) }}
) as n
inner join {{ ref('repo_activity_profiles') }} as p on p.repo_id = n.repo_id
inner join {{ ref('repo_cluster_centroids') }} as c on c.cluster = n.cluster
