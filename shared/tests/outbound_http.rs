//! The outbound HTTP adapter against a real local HTTP server.

use std::time::Duration;
use vaccount::net::OutboundHttp;
use vaccount::ports::{HttpError, HttpRequest, HttpSender};

async fn local_server(status: u16, delay: Duration) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: String| async move {
            tokio::time::sleep(delay).await;
            (http::StatusCode::from_u16(status).unwrap(), format!("got {}", body.len()))
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/hook")
}

fn post(url: &str, timeout: Duration) -> HttpRequest {
    HttpRequest { url: url.to_owned(), headers: vec![("content-type".into(), "application/json".into())], body: b"{}".to_vec(), timeout }
}

#[tokio::test]
async fn trusted_client_posts_and_reads_the_answer() {
    let url = local_server(202, Duration::ZERO).await;
    let answer = OutboundHttp::trusted().unwrap().post(post(&url, Duration::from_secs(5))).await.unwrap();
    assert_eq!(answer.status, 202);
    assert_eq!(answer.body, b"got 2");
}

#[tokio::test]
async fn guarded_client_refuses_loopback_by_literal_and_by_name() {
    let url = local_server(200, Duration::ZERO).await;
    let guarded = OutboundHttp::guarded(false).unwrap();
    assert!(matches!(guarded.post(post(&url, Duration::from_secs(5))).await, Err(HttpError::Refused(_))));
    let by_name = url.replace("http://127.0.0.1", "https://localhost");
    assert!(matches!(guarded.post(post(&by_name, Duration::from_secs(5))).await, Err(HttpError::Refused(_))), "{by_name}");
    let metadata = "https://169.254.169.254/latest/meta-data";
    assert!(matches!(guarded.post(post(metadata, Duration::from_secs(5))).await, Err(HttpError::Refused(_))));
}

#[tokio::test]
async fn private_addresses_pass_only_when_allowed() {
    let url = local_server(204, Duration::ZERO).await;
    let answer = OutboundHttp::guarded(true).unwrap().post(post(&url, Duration::from_secs(5))).await.unwrap();
    assert_eq!(answer.status, 204);
}

#[tokio::test]
async fn metadata_and_link_local_are_refused_even_when_private_is_allowed() {
    let lenient = OutboundHttp::guarded(true).unwrap();
    for never in ["http://169.254.169.254/latest/meta-data", "http://[fe80::1]/", "http://[fd00:ec2::254]/"] {
        assert!(matches!(lenient.post(post(never, Duration::from_secs(2))).await, Err(HttpError::Refused(_))), "{never}");
    }
}

#[tokio::test]
async fn a_slow_answer_is_a_timeout() {
    let url = local_server(200, Duration::from_secs(3)).await;
    let result = OutboundHttp::trusted().unwrap().post(post(&url, Duration::from_millis(200))).await;
    assert_eq!(result, Err(HttpError::Timeout));
}

#[tokio::test]
async fn an_error_never_repeats_the_url_whose_path_may_be_a_secret() {
    // A port that was just free: nothing listens, so the connection is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/services/T000/B000/s3cr3tpath");
    let result = OutboundHttp::trusted().unwrap().post(post(&url, Duration::from_secs(5))).await;
    let Err(HttpError::Connect(text)) = result else { panic!("expected a connect error, got {result:?}") };
    assert!(!text.contains("s3cr3tpath"), "{text}");
}
