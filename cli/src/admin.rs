//! `vaccount admin …` and `vaccount audit …`: operators of the admin dashboard, created from the
//! command line (the first super_admin has no one to create them), and the audit chain's check.

use crate::{CliError, parse, print_json};
use clap::Subcommand;
use vaccount::app::Service;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create an operator; prints a one-time enrolment token (good for 24 h) to finish at
    /// /admin/enrol on the server: a password, then a TOTP authenticator.
    CreateUser {
        #[arg(long)]
        name: String,
        /// super_admin, admin or viewer.
        #[arg(long)]
        role: String,
        /// May see customers' names, phone numbers, emails and refund accounts unmasked.
        #[arg(long)]
        pii: bool,
    },
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Walk the audit log's hash chain: `{"entries": N, "ok": true}`, or exit status 1 and the
    /// first broken entry.
    Verify,
}

pub async fn admin(service: &Service, command: AdminCommand) -> Result<(), CliError> {
    match command {
        AdminCommand::CreateUser { name, role, pii } => {
            let created = service.operators().create_user(parse("name", &name)?, parse("role", &role)?, pii, None).await?;
            eprintln!("enrol at /admin/enrol?token={} within 24 hours", created.enrolment_token);
            print_json(&created)
        }
    }
}

pub async fn audit(service: &Service, command: AuditCommand) -> Result<(), CliError> {
    match command {
        AuditCommand::Verify => {
            let report = service.audit().verify().await?;
            print_json(&report)?;
            if report.ok { Ok(()) } else { Err(CliError::Failed("the audit chain is broken".into())) }
        }
    }
}
