output "cluster_name" {
  value = google_container_cluster.saldo.name
}

output "database_private_ip" {
  value = google_sql_database_instance.saldo.private_ip_address
}

output "reports_replica_private_ip" {
  value = google_sql_database_instance.reports_replica.private_ip_address
}

output "redis_host" {
  value = google_redis_instance.saldo.host
}

output "image_repository" {
  value = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.saldo.repository_id}/saldo"
}
