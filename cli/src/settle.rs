//! `vaccount settle`: a day's settlement files, written under the data dir as the nightly
//! run writes them (`serve` runs that schedule itself; in AWS the `settlement-exporter`
//! function does, and takes `{"date": "…"}` for a re-run).

use crate::store::Location;
use crate::{CliError, print_json};
use clap::Args;
use std::path::Path;
use std::sync::Arc;
use vaccount::app::settlements::{SettlementView, Settlements};
use vaccount::store::LocalBlobs;

#[derive(Args)]
pub struct SettleArgs {
    /// The KST day to settle, e.g. 2026-11-24.
    #[arg(long)]
    date: String,
    /// Only this merchant (default: every merchant).
    #[arg(long)]
    merchant: Option<String>,
}

/// Settlement files of a data dir live beside its store.
pub fn local_settlements(data_dir: &Path, service: &vaccount::app::Service) -> Settlements {
    Settlements::new(service, Arc::new(LocalBlobs::new(data_dir.to_owned())), data_dir.join("tmp"))
}

pub async fn run(location: &Location, args: SettleArgs) -> Result<(), CliError> {
    let Location::DataDir(dir) = location else {
        return Err(CliError::Config(
            "settle writes a data dir's files; a deployed stack settles with its settlement-exporter function (invoke it with {\"date\": \"YYYY-MM-DD\"})"
                .into(),
        ));
    };
    let day = vaccount::http::dto::parse_day(&args.date).map_err(|e| CliError::App(vaccount::app::AppError::field("date", e)))?;
    let settlements = local_settlements(dir, &crate::store::service(location).await?);
    let done = match args.merchant {
        Some(merchant) => vec![settlements.export_day(&crate::parse("merchant", &merchant)?, day).await?],
        None => settlements.export_all(day).await?,
    };
    let views: Vec<SettlementView> = done.iter().map(SettlementView::of).collect();
    print_json(&views)
}
