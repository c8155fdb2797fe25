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
#[cfg(any(feature = "client", feature = "mcp-client"))]
pub(crate) fn http_client() -> Result<reqwest::Client, reqwest::Error> {
    install_crypto_provider();
    reqwest::Client::builder()
        .build()
        .or_else(|_| bundled_roots_client())
}

/// The TLS configuration of model provider connections. With `trust_roots`, it trusts the
/// system's CA store, or the bundled roots when the system has none; without, it trusts no
/// root, so building it reads nothing (for plain `http` endpoints: an `https` URL through it
/// fails verification rather than going out unverified).
#[cfg(feature = "models")]
pub(crate) fn provider_config(trust_roots: bool) -> Result<rustls::ClientConfig, rustls::Error> {
    let roots = if trust_roots {
        system_or_bundled(rustls_native_certs::load_native_certs().certs)
    } else {
        rustls::RootCertStore::empty()
    };
    client_config(roots)
}

/// A client configuration trusting exactly `roots`, over the process's crypto provider.
#[cfg(feature = "models")]
pub(crate) fn client_config(
    roots: rustls::RootCertStore,
) -> Result<rustls::ClientConfig, rustls::Error> {
    install_crypto_provider();
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| std::sync::Arc::new(rustls::crypto::ring::default_provider()));
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The `system` roots, or the bundled ones when the system has no usable root.
#[cfg(feature = "models")]
fn system_or_bundled(
    system: Vec<rustls::pki_types::CertificateDer<'static>>,
) -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(system);
    if roots.is_empty() {
        roots.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
    }
    roots
}

/// A client trusting only the bundled roots, without reading the system's store.
#[cfg(any(feature = "client", feature = "mcp-client"))]
fn bundled_roots_client() -> Result<reqwest::Client, reqwest::Error> {
    let bundled = webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .filter_map(|der| reqwest::Certificate::from_der(der).ok());
    reqwest::Client::builder().tls_certs_only(bundled).build()
}

#[cfg(all(test, any(feature = "client", feature = "models")))]
mod tests {
    use super::*;

    #[cfg(feature = "client")]
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
    fn the_bundled_roots_stand_in_for_a_missing_system_store() {
        let bundled = system_or_bundled(Vec::new());
        assert!(bundled.len() > 100, "{} bundled roots", bundled.len());
        let one = webpki_root_certs::TLS_SERVER_ROOT_CERTS[0].clone();
        assert_eq!(
            system_or_bundled(vec![one]).len(),
            1,
            "system roots replace the bundle"
        );
        let unparsable = rustls::pki_types::CertificateDer::from(vec![1, 2, 3]);
        assert_eq!(system_or_bundled(vec![unparsable]).len(), bundled.len());
        provider_config(false).expect("a configuration without CA roots");
        provider_config(true).expect("a configuration with CA roots");
    }
}
