//! `vaccount exception …`: resolving deposit exceptions from the command line (on a stopped
//! data dir, or a deployed table), as an operator made with `vaccount admin create-user`.

use crate::{CliError, parse, print_json};
use clap::{Args, Subcommand};
use vaccount::app::Service;
use vaccount::app::audit::{Change, Origin};
use vaccount::app::exceptions::{ExceptionAction, ExceptionOwner};
use vaccount::domain::deposit::{ExceptionState, Resolution};
use vaccount::domain::operator::AuditAction;
use vaccount::domain::view::DepositView;

#[derive(Subcommand)]
pub enum ExceptionCommand {
    /// Deposits with exceptions, newest first.
    List {
        /// A merchant id, or `unmatched` for deposits to unknown numbers.
        #[arg(long)]
        merchant: String,
        /// open, pending_approval or resolved.
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Resolve an exception: assign it to an account, refund it, or write it off. Where the
    /// merchant requires maker-checker, it waits for `exception approve` by another operator.
    Resolve(ResolveArgs),
    /// Approve a pending resolution (a different operator than the one who proposed it).
    Approve {
        #[arg(long)]
        id: String,
        #[arg(long)]
        operator: String,
    },
    /// Turn a pending resolution down; the exception is open again.
    Reject {
        #[arg(long)]
        id: String,
        #[arg(long)]
        operator: String,
    },
}

#[derive(Args)]
pub struct ResolveArgs {
    #[arg(long)]
    id: String,
    #[arg(long)]
    operator: String,
    /// Credit the amount to this virtual account (va_…).
    #[arg(long, group = "action")]
    assign: Option<String>,
    /// Refund to this bank (KFTC code) …
    #[arg(long, group = "action", requires_all = ["refund_account", "refund_holder"])]
    refund_bank: Option<String>,
    /// … account number …
    #[arg(long)]
    refund_account: Option<String>,
    /// … and account holder.
    #[arg(long)]
    refund_holder: Option<String>,
    /// Write the amount off, with a note saying why.
    #[arg(long, group = "action")]
    write_off: Option<String>,
}

impl ResolveArgs {
    fn resolution(&self) -> Result<Resolution, CliError> {
        if let Some(account) = &self.assign {
            return Ok(Resolution::Assign { account: parse("assign", account)? });
        }
        if let (Some(bank), Some(number), Some(holder)) = (&self.refund_bank, &self.refund_account, &self.refund_holder) {
            return Ok(Resolution::Refund { bank_code: parse("refund_bank", bank)?, account_number: parse("refund_account", number)?, holder: holder.clone() });
        }
        match &self.write_off {
            Some(note) if !note.trim().is_empty() => Ok(Resolution::WriteOff { note: note.clone() }),
            _ => Err(CliError::Config("give one of --assign, --refund-bank/--refund-account/--refund-holder, --write-off NOTE".into())),
        }
    }
}

pub async fn exception(service: &Service, command: ExceptionCommand) -> Result<(), CliError> {
    let (operator, id, action) = match command {
        ExceptionCommand::List { merchant, state, limit } => {
            let owner = if merchant == "unmatched" { ExceptionOwner::Unmatched } else { ExceptionOwner::Merchant(parse("merchant", &merchant)?) };
            let state = state.map(|s| parse::<ExceptionState>("state", &s)).transpose()?;
            let page = service.exceptions().list_exceptions(&owner, state, limit.clamp(1, 100), None).await?;
            let views: Vec<DepositView> = page.items.iter().map(DepositView::from).collect();
            return print_json(&views);
        }
        ExceptionCommand::Resolve(args) => (args.operator.clone(), args.id.clone(), ExceptionAction::Resolve(args.resolution()?)),
        ExceptionCommand::Approve { id, operator } => (operator, id, ExceptionAction::Approve),
        ExceptionCommand::Reject { id, operator } => (operator, id, ExceptionAction::Reject),
    };
    let (operator, id): (vaccount::domain::OperatorName, vaccount::domain::ExceptionId) = (parse("operator", &operator)?, parse("id", &id)?);
    let audited = match action {
        ExceptionAction::Resolve(_) => AuditAction::ExceptionResolved,
        ExceptionAction::Approve => AuditAction::ExceptionApproved,
        ExceptionAction::Reject => AuditAction::ExceptionRejected,
    };
    let deposit = service.exceptions().act_on_exception(&operator, &id, action).await?;
    // The command line is an admin action like the dashboard's: the same audit log, from no address.
    let change = Change { after: serde_json::to_value(&deposit.exception).ok(), ..Change::of(audited, id.to_string()) };
    let role = service.operators().get(&operator).await.ok().map(|op| op.role);
    service.audit().note(operator.as_str(), role, change, &Origin { ip: None, user_agent: Some("vaccount cli".into()) }).await;
    print_json(&DepositView::from(&deposit))
}
