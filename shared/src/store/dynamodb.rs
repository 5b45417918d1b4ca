//! The `Table` port on DynamoDB: one table, `pk`/`sk`, sparse GSIs `gsi1`-`gsi3`, TTL on
//! `expires_at`, Streams for the outbox. Every DynamoDB expression of the service lives here.

use crate::ports::{
    Attr, Condition, Index, Item, Key, PK, Page, Query, SK, SortRange, StoreError, Table, VERSION, Write, validate_cursor, validate_transaction,
};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, Delete, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType, Put,
    ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification, TransactWriteItem,
};
use std::collections::HashMap;

#[derive(Clone)]
pub struct DynamoTable {
    client: Client,
    table: String,
}

impl DynamoTable {
    pub fn new(client: Client, table: impl Into<String>) -> DynamoTable {
        DynamoTable { client, table: table.into() }
    }

    /// The keys of the items whose partition key starts with `pk_prefix` and whose sort key is
    /// `sk`: a Scan of the whole table, for migrations only (`vaccount migrate`).
    pub async fn keys_with_prefix(&self, pk_prefix: &str, sk: &str) -> Result<Vec<Key>, StoreError> {
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .scan()
                .table_name(&self.table)
                .consistent_read(true)
                .filter_expression("begins_with(#pk, :prefix) AND #sk = :sk")
                .projection_expression("#pk, #sk")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_values(":prefix", AttributeValue::S(pk_prefix.to_owned()))
                .expression_attribute_values(":sk", AttributeValue::S(sk.to_owned()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(sdk_unavailable)?;
            for item in out.items.unwrap_or_default() {
                if let (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) = (item.get(PK), item.get(SK)) {
                    found.push(Key::new(pk.clone(), sk.clone()));
                }
            }
            match out.last_evaluated_key {
                Some(next) => start = Some(next),
                None => return Ok(found),
            }
        }
    }

    pub fn table_name(&self) -> &str {
        &self.table
    }

    /// Creates the table as `template.yaml` declares it. For local emulators and tests; in AWS
    /// the stack owns the table. Tests that read no stream leave it off: moto keeps every
    /// stream record and copies them on each transaction, which makes a long test crawl.
    pub async fn create_table(&self, with_stream: bool) -> Result<(), StoreError> {
        let key = |name: &str, kind: KeyType| KeySchemaElement::builder().attribute_name(name).key_type(kind).build();
        let string_attr = |name: &str| AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build();
        let mut create = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key(PK, KeyType::Hash).map_err(invalid)?)
            .key_schema(key(SK, KeyType::Range).map_err(invalid)?)
            .attribute_definitions(string_attr(PK).map_err(invalid)?)
            .attribute_definitions(string_attr(SK).map_err(invalid)?)
            .set_stream_specification(if with_stream {
                Some(StreamSpecification::builder().stream_enabled(true).stream_view_type(StreamViewType::NewImage).build().map_err(invalid)?)
            } else {
                None
            });
        for index in Index::ALL {
            create = create
                .attribute_definitions(string_attr(index.pk()).map_err(invalid)?)
                .attribute_definitions(string_attr(index.sk()).map_err(invalid)?)
                .global_secondary_indexes(
                    GlobalSecondaryIndex::builder()
                        .index_name(index.name())
                        .key_schema(key(index.pk(), KeyType::Hash).map_err(invalid)?)
                        .key_schema(key(index.sk(), KeyType::Range).map_err(invalid)?)
                        .projection(Projection::builder().projection_type(ProjectionType::All).build())
                        .build()
                        .map_err(invalid)?,
                );
        }
        create.send().await.map_err(sdk_unavailable)?;
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(TimeToLiveSpecification::builder().enabled(true).attribute_name(crate::ports::EXPIRES_AT).build().map_err(invalid)?)
            .send()
            .await
            .map_err(sdk_unavailable)?;
        Ok(())
    }

    pub async fn delete_table(&self) -> Result<(), StoreError> {
        self.client.delete_table().table_name(&self.table).send().await.map_err(sdk_unavailable)?;
        Ok(())
    }
}

#[async_trait]
impl Table for DynamoTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let out = self.client.get_item().table_name(&self.table).set_key(Some(key_map(key))).consistent_read(true).send().await.map_err(sdk_unavailable)?;
        out.item.map(from_dynamo_item).transpose()
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        validate_cursor(query)?;
        let (pk_name, sk_name) = query.key_names();
        let mut values = HashMap::from([(":pk".to_owned(), AttributeValue::S(query.pk.clone()))]);
        let condition = match &query.range {
            SortRange::All => "#pk = :pk".to_owned(),
            SortRange::BeginsWith(prefix) => {
                values.insert(":p".into(), AttributeValue::S(prefix.clone()));
                "#pk = :pk AND begins_with(#sk, :p)".to_owned()
            }
            SortRange::Between(lo, hi) => {
                values.insert(":lo".into(), AttributeValue::S(lo.clone()));
                values.insert(":hi".into(), AttributeValue::S(hi.clone()));
                "#pk = :pk AND #sk BETWEEN :lo AND :hi".to_owned()
            }
        };
        let mut names = HashMap::from([("#pk".to_owned(), pk_name.to_owned())]);
        if query.range != SortRange::All {
            names.insert("#sk".into(), sk_name.to_owned());
        }
        let limit = i32::try_from(query.limit).map_err(|_| StoreError::Invalid("limit too large".into()))?;
        if limit == 0 {
            return Ok(Page::default());
        }
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(query.index.map(|i| i.name().to_owned()))
            // Indexes cannot be read consistently; the base table can, and is.
            .consistent_read(query.index.is_none())
            .key_condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .scan_index_forward(!query.descending)
            .limit(limit)
            .set_exclusive_start_key(query.after.as_ref().map(|c| c.iter().map(|(k, v)| (k.clone(), AttributeValue::S(v.clone()))).collect()))
            .send()
            .await
            .map_err(|e| match &e {
                // DynamoDB refuses a start key outside the key condition; the embedded store
                // never reaches that point because the cursor names another partition first.
                SdkError::ServiceError(s) if query.after.is_some() && s.err().code() == Some("ValidationException") => StoreError::InvalidCursor,
                _ => sdk_unavailable(e),
            })?;
        let items = out.items.unwrap_or_default().into_iter().map(from_dynamo_item).collect::<Result<Vec<_>, _>>()?;
        let next = out
            .last_evaluated_key
            .map(|k| {
                k.into_iter()
                    .map(|(name, v)| match v {
                        AttributeValue::S(s) => Ok((name, s)),
                        _ => Err(StoreError::Unavailable("non-string key in LastEvaluatedKey".into())),
                    })
                    .collect()
            })
            .transpose()?;
        Ok(Page { items, next })
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        validate_transaction(&writes)?;
        let deadline = crate::ports::commit_deadline(&writes);
        let items = writes.into_iter().map(|w| transact_item(&self.table, w)).collect::<Result<Vec<_>, _>>()?;
        // The token makes the SDK's own retries of this call idempotent: a retry of a
        // transaction that did commit answers success instead of failing its conditions.
        let token = ulid::Ulid::new().to_string();
        let mut call = self.client.transact_write_items().set_transact_items(Some(items)).client_request_token(token).customize();
        if let Some(by) = deadline {
            // Nothing is sent after the deadline, and the whole call, the SDK's retries
            // included, is cut off at it (docs/decisions.md, 21).
            let left = by - chrono::Utc::now().timestamp_millis();
            let left = u64::try_from(left).ok().filter(|ms| *ms > 0).ok_or(StoreError::DeadlinePassed)?;
            let timeouts = aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder().operation_timeout(std::time::Duration::from_millis(left)).build();
            call = call.config_override(aws_sdk_dynamodb::config::Builder::default().timeout_config(timeouts));
        }
        match call.send().await {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) => Err(match e.into_err() {
                TransactWriteItemsError::TransactionCanceledException(cancelled) => {
                    let reasons = cancelled.cancellation_reasons();
                    if let Some(index) = reasons.iter().position(|r| r.code() == Some("ConditionalCheckFailed")) {
                        StoreError::ConditionFailed { index }
                    } else if reasons.iter().any(|r| r.code() == Some("TransactionConflict")) {
                        StoreError::Conflict
                    } else {
                        StoreError::Unavailable(format!("transaction cancelled: {:?}", cancelled.message()))
                    }
                }
                TransactWriteItemsError::TransactionInProgressException(_) => StoreError::Conflict,
                other => StoreError::Unavailable(format!("{other:?}")),
            }),
            Err(other) => Err(sdk_unavailable(other)),
        }
    }
}

fn transact_item(table: &str, write: Write) -> Result<TransactWriteItem, StoreError> {
    let builder = TransactWriteItem::builder();
    Ok(match write {
        Write::Put { item, condition } => {
            let (expr, names, values) = condition_expression(condition);
            builder
                .put(
                    Put::builder()
                        .table_name(table)
                        .set_item(Some(to_dynamo_item(item)))
                        .set_condition_expression(expr)
                        .set_expression_attribute_names(names)
                        .set_expression_attribute_values(values)
                        .build()
                        .map_err(invalid)?,
                )
                .build()
        }
        Write::Delete { key, condition } => {
            let (expr, names, values) = condition_expression(condition);
            builder
                .delete(
                    Delete::builder()
                        .table_name(table)
                        .set_key(Some(key_map(&key)))
                        .set_condition_expression(expr)
                        .set_expression_attribute_names(names)
                        .set_expression_attribute_values(values)
                        .build()
                        .map_err(invalid)?,
                )
                .build()
        }
        Write::Check { key, condition } => {
            let (expr, names, values) = condition_expression(condition);
            let expr = expr.ok_or_else(|| StoreError::Invalid("a condition check needs a condition".into()))?;
            builder
                .condition_check(
                    ConditionCheck::builder()
                        .table_name(table)
                        .set_key(Some(key_map(&key)))
                        .condition_expression(expr)
                        .set_expression_attribute_names(names)
                        .set_expression_attribute_values(values)
                        .build()
                        .map_err(invalid)?,
                )
                .build()
        }
    })
}

type Expression = (Option<String>, Option<HashMap<String, String>>, Option<HashMap<String, AttributeValue>>);

fn condition_expression(condition: Condition) -> Expression {
    let pk_name = || Some(HashMap::from([("#pk".to_owned(), PK.to_owned())]));
    match condition {
        Condition::Always => (None, None, None),
        Condition::NotExists => (Some("attribute_not_exists(#pk)".into()), pk_name(), None),
        Condition::Exists => (Some("attribute_exists(#pk)".into()), pk_name(), None),
        Condition::VersionIs(v) => (
            Some("#v = :v".into()),
            Some(HashMap::from([("#v".to_owned(), VERSION.to_owned())])),
            Some(HashMap::from([(":v".to_owned(), AttributeValue::N(v.to_string()))])),
        ),
    }
}

fn key_map(key: &Key) -> HashMap<String, AttributeValue> {
    HashMap::from([(PK.to_owned(), AttributeValue::S(key.pk.clone())), (SK.to_owned(), AttributeValue::S(key.sk.clone()))])
}

fn to_dynamo_item(item: Item) -> HashMap<String, AttributeValue> {
    item.into_iter().map(|(k, v)| (k, to_dynamo(v))).collect()
}

fn to_dynamo(attr: Attr) -> AttributeValue {
    match attr {
        Attr::S(s) => AttributeValue::S(s),
        Attr::N(n) => AttributeValue::N(n.to_string()),
        Attr::Bool(b) => AttributeValue::Bool(b),
        Attr::Null => AttributeValue::Null(true),
        Attr::L(l) => AttributeValue::L(l.into_iter().map(to_dynamo).collect()),
        Attr::M(m) => AttributeValue::M(m.into_iter().map(|(k, v)| (k, to_dynamo(v))).collect()),
    }
}

/// An item as DynamoDB returns it (a read, or a stream record's image) in our attribute model.
pub fn from_dynamo_item(item: HashMap<String, AttributeValue>) -> Result<Item, StoreError> {
    item.into_iter().map(|(k, v)| Ok((k, from_dynamo(v)?))).collect()
}

fn from_dynamo(value: AttributeValue) -> Result<Attr, StoreError> {
    Ok(match value {
        AttributeValue::S(s) => Attr::S(s),
        AttributeValue::N(n) => Attr::N(n.parse().map_err(|_| StoreError::Unavailable(format!("non-integer number {n} in table")))?),
        AttributeValue::Bool(b) => Attr::Bool(b),
        AttributeValue::Null(_) => Attr::Null,
        AttributeValue::L(l) => Attr::L(l.into_iter().map(from_dynamo).collect::<Result<_, _>>()?),
        AttributeValue::M(m) => Attr::M(m.into_iter().map(|(k, v)| Ok((k, from_dynamo(v)?))).collect::<Result<_, StoreError>>()?),
        other => return Err(StoreError::Unavailable(format!("unsupported attribute type {other:?}"))),
    })
}

fn invalid(e: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid(e.to_string())
}

fn sdk_unavailable<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(e: SdkError<E, R>) -> StoreError {
    let detail = match &e {
        SdkError::ServiceError(s) => format!("{}: {}", s.err().code().unwrap_or("error"), s.err().message().unwrap_or("")),
        other => format!("{other:?}"),
    };
    StoreError::Unavailable(detail)
}
