//! The dashboard's static files, compiled into the binary (operators' networks are closed: no
//! CDN). Each is served under a name carrying a hash of its bytes, so a browser may keep it for
//! a year and still never runs an old copy after an upgrade.

use axum::extract::Path;
use axum::extract::rejection::PathRejection;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

/// htmx 2 (npm `htmx.org`, 0BSD, `assets/htmx.LICENSE`), our script and our stylesheet.
const ASSETS: &[Asset] = &[
    Asset { name: "htmx.min.js", content_type: "text/javascript; charset=utf-8", bytes: include_bytes!("../../../../assets/htmx.min.js") },
    Asset { name: "admin.js", content_type: "text/javascript; charset=utf-8", bytes: include_bytes!("../../../../assets/admin.js") },
    Asset { name: "admin.css", content_type: "text/css; charset=utf-8", bytes: include_bytes!("../../../../assets/admin.css") },
];

/// `admin.css` → `admin.1a2b3c4d5e6f.css`: the served name of each asset.
static SERVED: LazyLock<Vec<(String, &'static Asset)>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|asset| {
            let digest = hex::encode(&Sha256::digest(asset.bytes)[..6]);
            let served = match asset.name.rsplit_once('.') {
                Some((stem, ext)) => format!("{stem}.{digest}.{ext}"),
                None => format!("{}.{digest}", asset.name),
            };
            (served, asset)
        })
        .collect()
});

/// The path a page links an asset by.
pub(super) fn href(name: &str) -> String {
    SERVED.iter().find(|(_, a)| a.name == name).map(|(served, _)| format!("/admin/assets/{served}")).unwrap_or_default()
}

pub(super) async fn serve(file: Result<Path<String>, PathRejection>) -> Response {
    let Some((_, asset)) = file.ok().and_then(|Path(file)| SERVED.iter().find(|(served, _)| *served == file)) else {
        return crate::http::problem::Problem::not_found().into_response();
    };
    let mut response = (StatusCode::OK, asset.bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_linked_by_a_name_that_changes_with_its_bytes() {
        for asset in ASSETS {
            let link = href(asset.name);
            let (stem, ext) = asset.name.rsplit_once('.').unwrap();
            assert!(link.starts_with(&format!("/admin/assets/{stem}.")) && link.ends_with(&format!(".{ext}")), "{link}");
            assert_eq!(link.len(), format!("/admin/assets/{}", asset.name).len() + 13, "{link}");
        }
        assert!(ASSETS[0].bytes.starts_with(b"var htmx="), "the vendored htmx build");
    }
}
