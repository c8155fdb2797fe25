//! TLS for genflow's HTTP clients (model providers, the flow client, the OTLP exporter):
//! rustls over the `ring` crypto provider, trusting the system's CA store where there is one
//! and the bundled Mozilla roots where there is none (a static binary in a `FROM scratch`
//! image), so HTTPS endpoints are reachable from an empty container.

/// Makes rustls use the `ring` provider, unless the application installed one of its own
/// (which is then kept).
pub(crate) fn install_crypto_provider() {
    // Fails only when a provider is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A client over the system's roots, or over the bundled roots when the system has none.
#[cfg(any(feature = "client", feature = "models"))]
pub(crate) fn http_client() -> Result<reqwest::Client, reqwest::Error> {
    install_crypto_provider();
    reqwest::Client::builder()
        .build()
        .or_else(|_| bundled_roots_client())
}

/// A client for plain `http` endpoints: it trusts no CA root, so building it reads nothing
/// (an `https` URL through it fails verification rather than going out unverified).
#[cfg(feature = "models")]
pub(crate) fn plain_http_client() -> Result<reqwest::Client, reqwest::Error> {
    install_crypto_provider();
    reqwest::Client::builder()
        .tls_certs_only(std::iter::empty())
        .build()
}

/// A client trusting only the bundled roots, without reading the system's store.
#[cfg(any(feature = "client", feature = "models"))]
fn bundled_roots_client() -> Result<reqwest::Client, reqwest::Error> {
    let bundled = webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .filter_map(|der| reqwest::Certificate::from_der(der).ok());
    reqwest::Client::builder().tls_certs_only(bundled).build()
}

#[cfg(all(test, any(feature = "client", feature = "models")))]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_roots_alone_make_a_client() {
        assert!(webpki_root_certs::TLS_SERVER_ROOT_CERTS.len() > 100);
        let parsed = webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .filter(|der| reqwest::Certificate::from_der(der).is_ok())
            .count();
        assert_eq!(parsed, webpki_root_certs::TLS_SERVER_ROOT_CERTS.len());
        bundled_roots_client().expect("a client from the bundled roots");
    }

    #[cfg(feature = "models")]
    #[test]
    fn a_client_without_roots_builds() {
        plain_http_client().expect("a client without CA roots");
    }
}
