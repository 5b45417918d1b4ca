//! Operators: who may act on exceptions and incidents, each with a bearer token shown once.

use super::{AppError, Service};
use crate::domain::OperatorName;
use crate::ports::StoreError;
use crate::repo;
use crate::repo::operators::Operator;
use serde::Serialize;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Serialize)]
pub struct OperatorCreated {
    pub operator: OperatorName,
    /// `Authorization: Bearer <token>` for the operator routes of `serve`.
    pub token: String,
}

fn token_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Operators: added, and recognised by their tokens.
#[derive(Clone, Copy)]
pub struct Operators<'a> {
    pub(super) service: &'a Service,
}

impl Operators<'_> {
    pub async fn add_operator(self, name: OperatorName) -> Result<OperatorCreated, AppError> {
        let secret = crate::domain::merchant::new_secret();
        // The token is shown once; only its SHA-256 is kept.
        let operator = Operator { name: name.clone(), token_sha256: token_hash(&secret), created_at: self.service.clock.now() };
        match self.service.table.transact(vec![repo::operators::create_operator(&operator)?]).await {
            Ok(()) => Ok(OperatorCreated { token: format!("{name}.{secret}"), operator: name }),
            Err(StoreError::ConditionFailed { .. }) => Err(AppError::Conflict(format!("operator {name} already exists"))),
            Err(e) => Err(e.into()),
        }
    }

    /// The operator a bearer token (`name.secret`) belongs to.
    pub async fn authenticate_operator(self, token: &str) -> Result<OperatorName, AppError> {
        let denied = AppError::Unauthorized("invalid operator token");
        let Some((name, secret)) = token.split_once('.') else { return Err(denied) };
        let Ok(name) = name.parse::<OperatorName>() else { return Err(denied) };
        let operator = repo::operators::get_operator(self.service.table.as_ref(), &name).await?;
        let offered = token_hash(secret);
        match operator {
            Some(op) if crate::domain::signing::constant_time_eq(op.token_sha256.as_bytes(), offered.as_bytes()) => Ok(op.name),
            _ => Err(denied),
        }
    }

    pub async fn operator_exists(self, name: &OperatorName) -> Result<bool, AppError> {
        Ok(repo::operators::get_operator(self.service.table.as_ref(), name).await?.is_some())
    }
}
