//! `vaccount reconcile`: a provider's statement of a day against a data dir's deposits. Lost
//! notices are recorded, the report file is written under the data dir
//! (`reconciliation/{provider}/…`) and the report is printed. In AWS the reconciler function
//! does the same with statements from the bucket.

use crate::store::Location;
use crate::{CliError, print_json};
use clap::Args;
use std::path::PathBuf;
use std::sync::Arc;
use vaccount::app::AppError;
use vaccount::app::reconcile::Reconciler;
use vaccount::domain::ProviderId;
use vaccount::providers::statement::BlobStatements;
use vaccount::store::LocalBlobs;

#[derive(Args)]
pub struct ReconcileArgs {
    /// The KST day the statement covers, e.g. 2026-11-24.
    #[arg(long)]
    date: String,
    /// The provider's statement: the generic statement CSV (docs/providers.md).
    #[arg(long)]
    statement: PathBuf,
    /// The provider whose statement it is (default: the only provider there is).
    #[arg(long)]
    provider: Option<String>,
}

pub async fn run(location: &Location, args: ReconcileArgs) -> Result<(), CliError> {
    let Location::DataDir(dir) = location else {
        return Err(CliError::Config(
            "reconcile writes a data dir's report; a deployed stack reconciles with its reconciler function and the statements in its bucket".into(),
        ));
    };
    let day = vaccount::http::dto::parse_day(&args.date).map_err(|e| CliError::App(AppError::field("date", e)))?;
    let statement = std::fs::read(&args.statement).map_err(|e| CliError::Config(format!("{}: {e}", args.statement.display())))?;
    let service = Arc::new(crate::store::service(location).await?);
    let provider: ProviderId = match args.provider {
        Some(provider) => crate::parse("provider", &provider)?,
        None => {
            let mut providers = vaccount::repo::merchants::list_providers(service.table().as_ref()).await.map_err(AppError::from)?;
            match providers.len() {
                1 => providers.remove(0).id,
                0 => return Err(CliError::App(AppError::field("provider", "no provider is listed; pass --provider"))),
                _ => {
                    let ids: Vec<String> = providers.iter().map(|p| p.id.to_string()).collect();
                    return Err(CliError::App(AppError::field("provider", format!("one of {}: pass --provider", ids.join(", ")))));
                }
            }
        }
    };
    let reconciler = local_reconciler(dir, service);
    print_json(&reconciler.reconcile_day(&provider, day, &statement).await?)
}

/// Statements and reports of a data dir live beside its store.
pub fn local_reconciler(data_dir: &std::path::Path, service: Arc<vaccount::app::Service>) -> Reconciler {
    let blobs = Arc::new(LocalBlobs::new(data_dir.to_owned()));
    Reconciler::new(service, blobs.clone(), Arc::new(BlobStatements::new(blobs)), data_dir.join("tmp"))
}
