terraform {
  required_version = ">= 1.6"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.0"
    }
  }
  # State in a versioned bucket made once by hand (docs/deployment.md).
  backend "gcs" {
    prefix = "saldo/terraform"
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}
