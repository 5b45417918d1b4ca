//! Merchants managed by a super_admin: one merchant in detail, a new merchant, its settings
//! changed, its API keys rotated. Setting fee terms (a new merchant, or a change of them)
//! needs the acting operator's step-up code (`X-TOTP-Code`). A key's secret is answered once,
//! when it is made, and never listed or audited.

use super::lists::MerchantView;
use super::queue::note;
use super::{Operator, body_of, step_up_code};
use crate::app::AppError;
use crate::app::audit::Change;
use crate::app::merchants::{KeyInfo, SettingsChange};
use crate::domain::operator::AuditAction;
use crate::domain::{ApiKeyId, DepositPolicy, Fee, Krw, Merchant, MerchantId, NameMismatchPolicy};
use crate::fields::{Fields, flag, object};
use crate::http::problem::Problem;
use crate::http::{AppState, dto, json};
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode};
use serde::Serialize;
use serde_json::{Map, Value, json};

type Body = Result<Bytes, BytesRejection>;

/// Settlement pays out at most this many business days after the deposit day (as the CLI's
/// `merchant create --payout-days`).
const MAX_PAYOUT_DAYS: u8 = 30;

/// The settings a body may carry, on create and on change.
const SETTINGS: [&str; 8] =
    ["name", "fee_per_deposit", "fee_rate_bps", "payout_days", "allow_partial_by_default", "accept_late", "name_mismatch", "require_exception_approval"];

/// A merchant in detail: its profile, settings and active keys (never their secrets).
#[derive(Serialize)]
struct MerchantDetail {
    #[serde(flatten)]
    merchant: MerchantView,
    keys: Vec<KeyInfo>,
    /// How long before an account's due time its customer is reminded: one setting for the
    /// whole deployment (`VACCOUNT_DUE_SOON_LEAD`), not a merchant's, shown here to read.
    due_soon_lead_seconds: i64,
}

async fn detail_of(state: &AppState, merchant: &Merchant) -> Result<MerchantDetail, AppError> {
    Ok(MerchantDetail {
        merchant: MerchantView::from(merchant),
        keys: state.service.merchants().keys(merchant).await?,
        due_soon_lead_seconds: state.service.settings().due_soon_lead.num_seconds(),
    })
}

fn merchant_id(id: Result<Path<String>, PathRejection>) -> Result<MerchantId, AppError> {
    id.ok().and_then(|Path(id)| id.parse().ok()).ok_or(AppError::NotFound)
}

/// An answer that shows a key's secret: no cache keeps it.
fn secret_answer(status: StatusCode, value: &impl Serialize) -> Response {
    let mut response = json(status, value);
    response.headers_mut().insert(http::header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn whole(f: &mut Fields, map: &Map<String, Value>, name: &str, range: std::ops::RangeInclusive<i64>) -> Option<i64> {
    match map.get(name) {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64() {
            Some(n) if range.contains(&n) => Some(n),
            _ => {
                f.fail(name, format!("must be a whole number from {} to {}", range.start(), range.end()));
                None
            }
        },
    }
}

/// The settings a body gives: `name`, one of `fee_per_deposit` (won) and `fee_rate_bps`,
/// `payout_days` (0-30), `allow_partial_by_default`, `accept_late`, `name_mismatch`
/// (`warn` | `hold`), `require_exception_approval`.
fn parse_settings(body: &[u8]) -> Result<SettingsChange, AppError> {
    let mut map = object(body, &[&SETTINGS[..], &["due_soon_lead"]].concat())?;
    if map.remove("due_soon_lead").is_some() {
        return Err(AppError::field("due_soon_lead", "is one setting for the whole deployment (VACCOUNT_DUE_SOON_LEAD), not a merchant's"));
    }
    let mut f = Fields::default();
    let name = match map.get("name") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            f.fail("name", "must be a string");
            None
        }
    };
    let per_deposit = whole(&mut f, &map, "fee_per_deposit", 0..=Krw::MAX_AMOUNT.won());
    let rate = whole(&mut f, &map, "fee_rate_bps", 0..=10_000);
    let fee = match (per_deposit, rate) {
        (Some(_), Some(_)) => {
            f.fail("fee_rate_bps", "give fee_per_deposit or fee_rate_bps, not both");
            None
        }
        (Some(won), None) => Some(Fee::PerDeposit(Krw::new(won))),
        (None, Some(bps)) => u32::try_from(bps).ok().map(Fee::RateBps),
        (None, None) => None,
    };
    let payout_days = whole(&mut f, &map, "payout_days", 0..=i64::from(MAX_PAYOUT_DAYS)).and_then(|d| u8::try_from(d).ok());
    let name_mismatch = match map.get("name_mismatch") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => s.parse::<NameMismatchPolicy>().map_err(|e| f.fail("name_mismatch", e)).ok(),
        Some(_) => {
            f.fail("name_mismatch", "must be warn or hold");
            None
        }
    };
    let change = SettingsChange {
        name,
        fee,
        payout_days,
        allow_partial_by_default: flag(&mut f, &map, "allow_partial_by_default"),
        accept_late: flag(&mut f, &map, "accept_late"),
        name_mismatch,
        require_exception_approval: flag(&mut f, &map, "require_exception_approval"),
    };
    Ok(f.done(change)?)
}

/// `GET /admin/v1/merchants/{id}`.
pub(super) async fn detail(State(state): State<AppState>, id: Result<Path<String>, PathRejection>) -> Result<Response, Problem> {
    let merchant = state.service.merchants().get(&merchant_id(id)?).await?;
    Ok(json(StatusCode::OK, &detail_of(&state, &merchant).await?))
}

/// What creating a merchant answers: the merchant, and its first key with the secret (once).
#[derive(Serialize)]
struct Created {
    merchant: MerchantDetail,
    key_id: ApiKeyId,
    secret: String,
}

/// `POST /admin/v1/merchants` with a step-up code: `name` (required) and the other settings;
/// a fee of 300 won per deposit and payout D+2 unless given, as `vaccount merchant create`.
pub(super) async fn create(State(state): State<AppState>, acting: Operator, headers: HeaderMap, body: Body) -> Result<Response, Problem> {
    let settings = parse_settings(&body_of(body)?)?;
    let Some(name) = settings.name.clone() else { return Err(AppError::field("name", "is required").into()) };
    state.service.operators().step_up(&acting, step_up_code(&headers)).await?;
    let policy = DepositPolicy {
        allow_partial_by_default: settings.allow_partial_by_default.unwrap_or(false),
        accept_late: settings.accept_late.unwrap_or(false),
        name_mismatch: settings.name_mismatch.unwrap_or_default(),
        require_exception_approval: settings.require_exception_approval.unwrap_or(false),
    };
    let fee = settings.fee.unwrap_or(Fee::PerDeposit(Krw::new(300)));
    let created = state.service.setup().create_merchant(&name, fee, settings.payout_days.unwrap_or(2), policy).await?;
    let merchant = state.service.merchants().get(&created.merchant_id).await?;
    let change =
        Change { after: serde_json::to_value(MerchantView::from(&merchant)).ok(), ..Change::of(AuditAction::MerchantCreated, merchant.id.to_string()) };
    note(&state, &acting, change).await;
    let body = Created { merchant: detail_of(&state, &merchant).await?, key_id: created.key_id, secret: created.secret };
    Ok(secret_answer(StatusCode::CREATED, &body))
}

/// `PATCH /admin/v1/merchants/{id}`: the settings given replace the current ones; every change
/// needs a step-up code. Applies from now on (`app::merchants`).
pub(super) async fn change_settings(
    State(state): State<AppState>,
    acting: Operator,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let id = merchant_id(id)?;
    let change = parse_settings(&body_of(body)?)?;
    if change == SettingsChange::default() {
        return Err(AppError::invalid("give at least one setting to change", vec![]).into());
    }
    // Every setting decides where money goes or when (fees, payout days, whether a refund
    // needs a second operator): a stolen session alone changes none of them.
    state.service.operators().step_up(&acting, step_up_code(&headers)).await?;
    let (before, after) = state.service.merchants().change_settings(&id, &change, true).await?;
    if before != after {
        let change = Change::of(AuditAction::MerchantSettingsChanged, id.to_string()).diff(&MerchantView::from(&before), &MerchantView::from(&after));
        note(&state, &acting, change).await;
    }
    Ok(json(StatusCode::OK, &detail_of(&state, &after).await?))
}

/// `POST /admin/v1/merchants/{id}/keys`: a new key beside the current one (at most two are
/// active; `409` otherwise), its secret answered once.
pub(super) async fn add_key(State(state): State<AppState>, acting: Operator, id: Result<Path<String>, PathRejection>, body: Body) -> Result<Response, Problem> {
    dto::parse_empty(&body_of(body)?)?;
    let id = merchant_id(id)?;
    let before = state.service.merchants().get(&id).await?;
    let created = state.service.setup().add_api_key(&id).await?;
    let after: Vec<ApiKeyId> = before.active_keys.iter().cloned().chain([created.key_id.clone()]).collect();
    let change = Change::of(AuditAction::MerchantKeyRotated, id.to_string()).diff(&json!({"active_keys": before.active_keys}), &json!({"active_keys": after}));
    note(&state, &acting, change).await;
    Ok(secret_answer(StatusCode::CREATED, &json!({"merchant_id": id, "key_id": created.key_id, "secret": created.secret})))
}

/// `DELETE /admin/v1/merchants/{id}/keys/{key_id}`: the key stops signing. The last active
/// key is kept (`409`): add its replacement first.
pub(super) async fn revoke_key(
    State(state): State<AppState>,
    acting: Operator,
    ids: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, Problem> {
    let Ok(Path((id, key))) = ids else { return Err(AppError::NotFound.into()) };
    let (id, key): (MerchantId, ApiKeyId) = match (id.parse(), key.parse()) {
        (Ok(id), Ok(key)) => (id, key),
        _ => return Err(AppError::NotFound.into()),
    };
    let (before, after) = state.service.merchants().revoke_key(&id, &key).await?;
    let change = Change::of(AuditAction::MerchantKeyRotated, id.to_string())
        .diff(&json!({"active_keys": before.active_keys}), &json!({"active_keys": after.active_keys}));
    note(&state, &acting, change).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}
