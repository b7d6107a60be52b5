variable "project_id" {
  description = "The GCP project Saldo runs in."
  type        = string
}

variable "region" {
  description = "Region of the cluster, the database and Redis (data stays in the EU)."
  type        = string
  default     = "europe-west3"
}

variable "environment" {
  description = "prod or staging: part of every resource name."
  type        = string
  default     = "prod"
}

variable "db_tier" {
  description = "Cloud SQL machine tier."
  type        = string
  default     = "db-custom-2-7680"
}

variable "master_authorized_cidr" {
  description = "The only network allowed to reach the GKE control plane (the operators' VPN)."
  type        = string
}
