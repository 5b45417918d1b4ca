//! The work queues operators clear: deposit exceptions (resolve, approve, reject), incidents
//! (acknowledge, resolve), webhook resends. Every action is audited with its before and after.
//! The queues' lists are `lists`'.

use super::{Operator, body_of, mask};
use crate::app::AppError;
use crate::app::audit::Change;
use crate::app::exceptions::ExceptionAction;
use crate::domain::deposit::{Deposit, Resolution};
use crate::domain::operator::AuditAction;
use crate::domain::view::DepositView;
use crate::domain::{AccountNumber, BankCode, EventId, ExceptionId, IncidentId, MerchantId, VirtualAccountId};
use crate::fields::{Fields, object, parsed, string};
use crate::http::problem::Problem;
use crate::http::{AppState, dto, json};
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{StatusCode, Uri};
use serde::Serialize;
use serde_json::Value;

type Body = Result<Bytes, BytesRejection>;

/// An answer in JSON: masked unless the operator has `pii`; an answer that shows personal
/// data unmasked is itself an audited action (`pii.unmasked`, naming the request).
pub(crate) async fn answer(state: &AppState, status: StatusCode, value: &impl Serialize, acting: &Operator, target: &Uri) -> Response {
    let value = match serde_json::to_value(value) {
        Ok(v) => v,
        Err(e) => return AppError::from(crate::app::Unavailable::Encoding(e.to_string())).into_response(),
    };
    if acting.operator.pii {
        let mut masked = value.clone();
        mask::mask(&mut masked);
        if masked != value {
            note(state, acting, Change::of(AuditAction::PiiUnmasked, target.path().to_owned())).await;
        }
        return json(status, &value);
    }
    json(status, &mask::for_operator(value, false))
}

pub(super) async fn note(state: &AppState, acting: &Operator, change: Change) {
    // The audit keeps what the operator saw: personal data masked there too unless they have `pii`.
    let masked = Change {
        before: change.before.map(|v| mask::for_operator(v, acting.operator.pii)),
        after: change.after.map(|v| mask::for_operator(v, acting.operator.pii)),
        ..change
    };
    state.service.audit().note(acting.name().as_str(), Some(acting.operator.role), masked, &acting.origin).await;
}

/// A deposit with an exception, as operators see it: whose it is, and how it stands.
#[derive(Serialize)]
pub(crate) struct ExceptionCase<'a> {
    pub(crate) merchant_id: Option<&'a MerchantId>,
    #[serde(flatten)]
    pub(crate) deposit: DepositView,
    /// The depositor's name as the provider sent it, when it was cleaned for `depositor_name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) depositor_name_raw: Option<&'a str>,
    pub(crate) proposal: Option<&'a crate::domain::deposit::Proposal>,
    pub(crate) resolution_detail: Option<&'a Resolution>,
}

pub(crate) fn case(d: &Deposit) -> ExceptionCase<'_> {
    let e = d.exception.as_ref();
    ExceptionCase {
        merchant_id: d.merchant_id.as_ref(),
        deposit: DepositView::from(d),
        depositor_name_raw: d.depositor_name_raw.as_deref(),
        proposal: e.and_then(|e| e.proposal.as_ref()),
        resolution_detail: e.and_then(|e| e.resolution.as_ref()),
    }
}

fn exception_id(id: Result<Path<String>, PathRejection>) -> Result<ExceptionId, AppError> {
    id.ok().and_then(|Path(id)| id.parse().ok()).ok_or(AppError::NotFound)
}

/// `{"assign": "va_…"}` | `{"write_off": "reason"}` | `{"refund": {"bank_code", "account_number", "holder"}}`.
fn parse_resolution(body: &[u8]) -> Result<Resolution, AppError> {
    let map = object(body, &["assign", "write_off", "refund"])?;
    if map.len() != 1 {
        return Err(AppError::invalid("give exactly one of assign, write_off, refund", vec![]));
    }
    let mut f = Fields::default();
    let resolution = if map.contains_key("assign") {
        parsed::<VirtualAccountId>(&mut f, &map, "assign").map(|account| Resolution::Assign { account })
    } else if map.contains_key("write_off") {
        match string(&mut f, &map, "write_off").map(str::trim) {
            Some(note) if !note.is_empty() && note.chars().count() <= 500 => Some(Resolution::WriteOff { note: note.to_owned() }),
            _ => {
                f.fail("write_off", "must be a reason of 1-500 characters");
                None
            }
        }
    } else {
        match map.get("refund") {
            Some(Value::Object(refund)) => {
                crate::fields::only(refund, &["bank_code", "account_number", "holder"])?;
                let bank_code = parsed::<BankCode>(&mut f, refund, "bank_code");
                let account_number = parsed::<AccountNumber>(&mut f, refund, "account_number");
                let holder = parsed::<String>(&mut f, refund, "holder").filter(|h| !h.trim().is_empty() && h.chars().count() <= 50);
                match (bank_code, account_number, holder) {
                    (Some(bank_code), Some(account_number), Some(holder)) => Some(Resolution::Refund { bank_code, account_number, holder }),
                    (_, _, None) => {
                        f.fail("refund.holder", "must be 1-50 characters");
                        None
                    }
                    _ => None,
                }
            }
            _ => {
                f.fail("refund", "must be an object with bank_code, account_number and holder");
                None
            }
        }
    };
    match resolution {
        Some(r) if f.errors.is_empty() => Ok(r),
        _ => Err(f.refused().into()),
    }
}

async fn act(state: &AppState, acting: &Operator, uri: &Uri, id: Result<Path<String>, PathRejection>, action: ExceptionAction) -> Result<Response, Problem> {
    let id = exception_id(id)?;
    let audit_action = match action {
        ExceptionAction::Resolve(_) => AuditAction::ExceptionResolved,
        ExceptionAction::Approve => AuditAction::ExceptionApproved,
        ExceptionAction::Reject => AuditAction::ExceptionRejected,
    };
    let before = state.service.deposits().deposit_by_id(&id.deposit()).await.ok();
    let deposit = state.service.exceptions().act_on_exception(acting.name(), &id, action).await?;
    let change = Change {
        before: before.as_ref().and_then(|d| serde_json::to_value(&d.exception).ok()),
        after: serde_json::to_value(&deposit.exception).ok(),
        ..Change::of(audit_action, id.to_string())
    };
    note(state, acting, change).await;
    Ok(answer(state, StatusCode::OK, &case(&deposit), acting, uri).await)
}

pub(super) async fn resolve(
    State(state): State<AppState>,
    acting: Operator,
    uri: Uri,
    id: Result<Path<String>, PathRejection>,
    body: Body,
) -> Result<Response, Problem> {
    let resolution = parse_resolution(&body_of(body)?)?;
    act(&state, &acting, &uri, id, ExceptionAction::Resolve(resolution)).await
}

pub(super) async fn approve(
    state: State<AppState>,
    acting: Operator,
    uri: Uri,
    id: Result<Path<String>, PathRejection>,
    body: Body,
) -> Result<Response, Problem> {
    decide(state, acting, uri, id, body, ExceptionAction::Approve).await
}

pub(super) async fn reject(
    state: State<AppState>,
    acting: Operator,
    uri: Uri,
    id: Result<Path<String>, PathRejection>,
    body: Body,
) -> Result<Response, Problem> {
    decide(state, acting, uri, id, body, ExceptionAction::Reject).await
}

/// A second operator's decision on a pending resolution: no body fields.
async fn decide(
    State(state): State<AppState>,
    acting: Operator,
    uri: Uri,
    id: Result<Path<String>, PathRejection>,
    body: Body,
    decision: ExceptionAction,
) -> Result<Response, Problem> {
    dto::parse_empty(&body_of(body)?)?;
    act(&state, &acting, &uri, id, decision).await
}

fn incident_id(id: Result<Path<String>, PathRejection>) -> Result<IncidentId, AppError> {
    id.ok().and_then(|Path(id)| id.parse().ok()).ok_or(AppError::NotFound)
}

pub(super) async fn incident(State(state): State<AppState>, acting: Operator, uri: Uri, id: Result<Path<String>, PathRejection>) -> Result<Response, Problem> {
    let incident = state.service.incidents().get_incident(&incident_id(id)?).await?;
    Ok(answer(&state, StatusCode::OK, &incident, &acting, &uri).await)
}

pub(super) async fn acknowledge(
    state: State<AppState>,
    acting: Operator,
    uri: Uri,
    id: Result<Path<String>, PathRejection>,
    body: Body,
) -> Result<Response, Problem> {
    change_incident(state, acting, uri, id, body, AuditAction::IncidentAcknowledged).await
}

pub(super) async fn resolve_incident(
    state: State<AppState>,
    acting: Operator,
    uri: Uri,
    id: Result<Path<String>, PathRejection>,
    body: Body,
) -> Result<Response, Problem> {
    change_incident(state, acting, uri, id, body, AuditAction::IncidentResolved).await
}

/// Acknowledges or resolves an incident in the acting operator's name, audited.
async fn change_incident(
    State(state): State<AppState>,
    acting: Operator,
    uri: Uri,
    id: Result<Path<String>, PathRejection>,
    body: Body,
    action: AuditAction,
) -> Result<Response, Problem> {
    dto::parse_empty(&body_of(body)?)?;
    let id = incident_id(id)?;
    let incidents = state.service.incidents();
    let incident = match action {
        AuditAction::IncidentAcknowledged => incidents.acknowledge_incident(acting.name(), &id).await?,
        _ => incidents.resolve_incident(acting.name(), &id).await?,
    };
    note(&state, &acting, Change::of(action, id.to_string())).await;
    Ok(answer(&state, StatusCode::OK, &incident, &acting, &uri).await)
}

/// `POST /admin/v1/events/{id}/resend`: a fresh delivery round of a merchant's event.
pub(super) async fn resend(
    State(state): State<AppState>,
    acting: Operator,
    uri: Uri,
    id: Result<Path<String>, PathRejection>,
    body: Body,
) -> Result<Response, Problem> {
    dto::parse_empty(&body_of(body)?)?;
    let id: EventId = id.ok().and_then(|Path(id)| id.parse().ok()).ok_or(AppError::NotFound)?;
    let request = state.service.webhooks().resend_any_event(&id).await?;
    note(&state, &acting, Change::of(AuditAction::EventResent, id.to_string())).await;
    Ok(answer(&state, StatusCode::ACCEPTED, &serde_json::json!({"event_id": id, "resend_request_id": request.id}), &acting, &uri).await)
}
