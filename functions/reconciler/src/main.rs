//! Builds the AWS clients once per cold start, then runs every scheduled reconciliation.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    vaccount::aws::init_logging();
    let service = vaccount::aws::service_from_env().await?;
    let reconciler = vaccount::aws::reconciler_from_env(&vaccount::aws::sdk_config().await, service)?;
    let run = |event: lambda_runtime::LambdaEvent<serde_json::Value>| reconciler::handle(&reconciler, event.payload);
    lambda_runtime::run(lambda_runtime::service_fn(run)).await
}
