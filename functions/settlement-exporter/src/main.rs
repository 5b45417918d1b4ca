//! Builds the AWS clients once per cold start, then runs every scheduled export with them.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    vaccount::aws::init_logging();
    let service = vaccount::aws::service_from_env().await?;
    let settlements = vaccount::aws::settlements_from_env(&vaccount::aws::sdk_config().await, &service)?;
    let export = |event: lambda_runtime::LambdaEvent<serde_json::Value>| settlement_exporter::handle(&settlements, event.payload);
    lambda_runtime::run(lambda_runtime::service_fn(export)).await
}
