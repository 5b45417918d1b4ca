//! Builds the AWS clients once per cold start, then serves every invocation.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    vaccount::aws::init_logging();
    let service = vaccount::aws::service_from_env().await?;
    lambda_http::run(webhooks_api::router(service, std::sync::Arc::new(vaccount::net::SystemResolver))).await
}
