//! Builds the AWS clients once per cold start, then runs every scheduled sweep with them.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    vaccount::aws::init_logging();
    let service = vaccount::aws::service_from_env().await?;
    let sweep = |event: lambda_runtime::LambdaEvent<serde_json::Value>| expiry_sweeper::handle(&service, event.payload);
    lambda_runtime::run(lambda_runtime::service_fn(sweep)).await
}
