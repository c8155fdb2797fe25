//! The built-in developer UI: plain ES modules and CSS compiled into the binary, served at `/`
//! and `/ui/<asset>` of the reflection server. Nothing is fetched from the network: the content
//! security policy allows this origin only.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

/// One file of the UI.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
    etag: u64,
}

impl Asset {
    const fn new(name: &'static str, content_type: &'static str, body: &'static str) -> Self {
        Asset {
            name,
            content_type,
            body,
            etag: fnv1a(body.as_bytes()),
        }
    }
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file of the UI; the page is the first.
const ASSETS: &[Asset] = &[
    Asset::new(
        "index.html",
        "text/html; charset=utf-8",
        include_str!("ui/index.html"),
    ),
    Asset::new(
        "style.css",
        "text/css; charset=utf-8",
        include_str!("ui/style.css"),
    ),
    Asset::new("app.js", JS, include_str!("ui/app.js")),
    Asset::new("api.js", JS, include_str!("ui/api.js")),
    Asset::new("dom.js", JS, include_str!("ui/dom.js")),
    Asset::new("actions.js", JS, include_str!("ui/actions.js")),
    Asset::new("form.js", JS, include_str!("ui/form.js")),
    Asset::new("run.js", JS, include_str!("ui/run.js")),
    Asset::new("traces.js", JS, include_str!("ui/traces.js")),
    Asset::new("diff.js", JS, include_str!("ui/diff.js")),
];

/// Same-origin only: no CDN, no web fonts, no inline script.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The UI's routes: `GET /` (the page), `GET /ui/<asset>` and `GET /ui/config.json`, which
/// tells the page where the flow server listens (for "copy as curl"), when it is known.
pub(crate) fn router(flow_server: Option<String>) -> Router {
    let config = json!({ "flowServer": flow_server }).to_string();
    Router::new()
        .route(
            "/",
            get(|headers: HeaderMap| async move { serve(&ASSETS[0], &headers) }),
        )
        .route(
            "/ui/config.json",
            get(move || async move {
                (
                    [
                        (header::CONTENT_TYPE, "application/json"),
                        (header::CACHE_CONTROL, "no-store"),
                    ],
                    config,
                )
            }),
        )
        .route("/ui/{asset}", get(asset))
}

async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    match ASSETS.iter().find(|asset| asset.name == name) {
        Some(asset) => serve(asset, &headers),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

/// The asset, or 304 when the browser's copy is current. `no-cache`: the browser revalidates
/// every load, so a rebuilt binary's UI shows at once.
fn serve(asset: &Asset, headers: &HeaderMap) -> Response {
    let etag = format!("\"{:016x}\"", asset.etag);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, asset.content_type)], asset.body).into_response()
    };
    let out = response.headers_mut();
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        out.insert(header::ETAG, etag);
    }
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    out.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    out.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    out.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// FNV-1a, 64 bits: the asset's ETag, computed at compile time.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{Body, to_bytes};
    use axum::http::Request;
    use tower::ServiceExt;

    async fn get(uri: &str, if_none_match: Option<&str>) -> Response {
        let mut request = Request::get(uri);
        if let Some(tag) = if_none_match {
            request = request.header(header::IF_NONE_MATCH, tag);
        }
        router(Some("http://127.0.0.1:3400".into()))
            .oneshot(request.body(Body::empty()).expect("request"))
            .await
            .expect("infallible")
    }

    async fn text(response: Response) -> String {
        let body = to_bytes(response.into_body(), 1 << 20).await.expect("body");
        String::from_utf8(body.to_vec()).expect("utf-8")
    }

    #[tokio::test]
    async fn serves_the_page_with_a_same_origin_policy() {
        let response = get("/", None).await;
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers();
        assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
        let csp = headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("ascii");
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert!(!csp.contains("http"), "no external origin: {csp}");
        assert!(text(response).await.contains("/ui/app.js"));
    }

    #[tokio::test]
    async fn every_asset_is_served_with_its_type_and_refers_to_no_other_origin() {
        for asset in ASSETS {
            let response = get(&format!("/ui/{}", asset.name), None).await;
            assert_eq!(response.status(), StatusCode::OK, "{}", asset.name);
            assert_eq!(
                response.headers()[header::CONTENT_TYPE],
                asset.content_type,
                "{}",
                asset.name
            );
            let body = text(response).await;
            for external in ["http://", "https://", "//fonts.", "@import url"] {
                assert!(!body.contains(external), "{} names {external}", asset.name);
            }
        }
    }

    #[tokio::test]
    async fn every_module_import_names_a_served_asset() {
        let import = regex_lite::Regex::new(r#"from '\./([a-z]+\.js)'"#).expect("regex");
        for asset in ASSETS {
            for found in import.captures_iter(asset.body) {
                let name = &found[1];
                assert!(
                    ASSETS.iter().any(|a| a.name == name),
                    "{} imports {name}, which is not served",
                    asset.name
                );
            }
        }
    }

    #[tokio::test]
    async fn answers_304_to_a_current_etag_and_200_to_a_stale_one() {
        let first = get("/ui/app.js", None).await;
        let etag = first.headers()[header::ETAG]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert_eq!(first.headers()[header::CACHE_CONTROL], "no-cache");
        let again = get("/ui/app.js", Some(&etag)).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert!(text(again).await.is_empty());
        let stale = get("/ui/app.js", Some("\"0000000000000000\"")).await;
        assert_eq!(stale.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn unknown_assets_are_404() {
        assert_eq!(
            get("/ui/missing.js", None).await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            get("/ui/..%2FCargo.toml", None).await.status(),
            StatusCode::NOT_FOUND
        );
    }

    #[tokio::test]
    async fn config_names_the_flow_server() {
        let body = text(get("/ui/config.json", None).await).await;
        let config: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert_eq!(config["flowServer"], "http://127.0.0.1:3400");
    }
}
