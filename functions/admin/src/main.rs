//! Builds the AWS clients once per cold start, then serves every invocation.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    vaccount::aws::init_logging();
    let service = vaccount::aws::service_from_env().await?;
    let settlements = vaccount::aws::settlements_from_env(&vaccount::aws::sdk_config().await, &service)?;
    lambda_http::run(admin::router(service, Some(std::sync::Arc::new(settlements)))).await
}
