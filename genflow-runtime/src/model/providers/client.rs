//! The HTTP client of provider calls: hyper's connection pool over TCP to the origin, or
//! through the proxy the environment names (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`,
//! `NO_PROXY`, as curl reads them), with rustls on top for `https` origins.
//!
//! An `https` origin behind a proxy is reached through a `CONNECT` tunnel; a plain `http`
//! origin behind a proxy gets its requests in absolute form, sent to the proxy.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderMap, HeaderValue, PROXY_AUTHORIZATION};
use http::{Method, Request, Response, Uri};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tower_service::Service;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Idle connections kept per provider host once a burst is over: as many as the server admits
/// requests by default, so a steady load never churns connections, and no more.
const MAX_IDLE_PER_HOST: usize = 512;

/// A connection pool for provider calls: hyper's client over TCP (through the environment's
/// proxy, if any) and rustls, HTTP/1.1 or HTTP/2 as the server offers.
pub(crate) struct HttpClient {
    client: Client<HttpsConnector<ProxyConnector>, Full<Bytes>>,
    connector: ProxyConnector,
}

impl HttpClient {
    /// A client whose `https` connections trust `tls`'s roots and whose requests go through
    /// the proxies `proxies` names.
    pub(crate) fn new(tls: rustls::ClientConfig, proxies: Matcher) -> Self {
        let connector = ProxyConnector::new(proxies);
        let https = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_all_versions()
            .wrap_connector(connector.clone());
        let client = Client::builder(TokioExecutor::new())
            // Idle connections are closed after hyper's 90 s default, on tokio's timer, and at
            // most MAX_IDLE_PER_HOST per provider host are kept after a burst.
            .pool_timer(TokioTimer::new())
            .pool_max_idle_per_host(MAX_IDLE_PER_HOST)
            .timer(TokioTimer::new())
            .build(https);
        HttpClient { client, connector }
    }

    /// Sends a `POST` of the JSON `body` to `uri`.
    pub(crate) async fn post(
        &self,
        uri: Uri,
        headers: HeaderMap,
        body: Vec<u8>,
    ) -> Result<Response<Incoming>, hyper_util::client::legacy::Error> {
        let proxy_auth = self.connector.forward_auth(&uri);
        let mut request = Request::new(Full::new(Bytes::from(body)));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;
        let headers = request.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(auth) = proxy_auth {
            headers.insert(PROXY_AUTHORIZATION, auth);
        }
        self.client.request(request).await
    }
}

/// Opens TCP connections to origins, or to the proxy that intercepts them.
#[derive(Clone)]
struct ProxyConnector {
    tcp: HttpConnector,
    proxies: Arc<Matcher>,
}

impl ProxyConnector {
    /// A connector that sends what `proxies` intercepts through its proxy.
    fn new(proxies: Matcher) -> Self {
        let mut tcp = HttpConnector::new();
        // TLS is layered on top of this connector, so it also opens `https` origins.
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        ProxyConnector {
            tcp,
            proxies: Arc::new(proxies),
        }
    }

    /// The `Proxy-Authorization` header a request to a plain `http` `uri` needs, when it goes
    /// through a proxy with credentials.
    fn forward_auth(&self, uri: &Uri) -> Option<HeaderValue> {
        if uri.scheme_str() != Some("http") {
            return None;
        }
        self.proxies.intercept(uri)?.basic_auth().cloned()
    }
}

impl Service<Uri> for ProxyConnector {
    type Response = ProxyStream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<ProxyStream, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.tcp.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, origin: Uri) -> Self::Future {
        let mut tcp = self.tcp.clone();
        let Some(proxy) = self.proxies.intercept(&origin) else {
            return Box::pin(async move { Ok(ProxyStream::origin_form(tcp.call(origin).await?)) });
        };
        if origin.scheme_str() == Some("https") {
            let mut tunnel = Tunnel::new(proxy.uri().clone(), tcp);
            if let Some(auth) = proxy.basic_auth() {
                tunnel = tunnel.with_auth(auth.clone());
            }
            return Box::pin(
                async move { Ok(ProxyStream::origin_form(tunnel.call(origin).await?)) },
            );
        }
        let proxy = proxy.uri().clone();
        Box::pin(async move {
            Ok(ProxyStream {
                io: tcp.call(proxy).await?,
                forward: true,
            })
        })
    }
}

/// A TCP connection, to the origin or to a proxy.
struct ProxyStream {
    io: TokioIo<TcpStream>,
    /// Whether requests go to a forwarding proxy (in absolute form).
    forward: bool,
}

impl ProxyStream {
    /// A connection whose requests name only their path: to the origin itself, or through a
    /// tunnel to it.
    fn origin_form(io: TokioIo<TcpStream>) -> Self {
        ProxyStream { io, forward: false }
    }
}

impl Connection for ProxyStream {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.forward)
    }
}

impl Read for ProxyStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl Write for ProxyStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;
    use tokio::sync::oneshot;

    /// A one-connection proxy on loopback: sends back the head of the first request it reads,
    /// and answers it with `reply`.
    async fn proxy(reply: &'static str) -> (String, oneshot::Receiver<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = format!(
            "http://user:secret@{}",
            listener.local_addr().expect("addr")
        );
        let (heads, head) = oneshot::channel();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut read = Vec::new();
            let mut buf = [0; 1024];
            while !read.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = socket.read(&mut buf).await.expect("read");
                assert!(n > 0, "the connection closed before a whole head");
                read.extend_from_slice(&buf[..n]);
            }
            let _ = heads.send(String::from_utf8_lossy(&read).to_lowercase());
            socket.write_all(reply.as_bytes()).await.expect("write");
            socket.shutdown().await.expect("shutdown");
        });
        (address, head)
    }

    /// A certificate authority and a certificate it signs for 127.0.0.1: the authority's
    /// certificate, and the TLS configuration of a server that speaks only HTTP/2.
    fn authority_and_server() -> (
        rustls::pki_types::CertificateDer<'static>,
        rustls::ServerConfig,
    ) {
        let mut authority = rcgen::CertificateParams::default();
        authority.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let authority_key = rcgen::KeyPair::generate().expect("key");
        let authority =
            rcgen::CertifiedIssuer::self_signed(authority, authority_key).expect("authority");
        let mut server = rcgen::CertificateParams::default();
        server.subject_alt_names = vec![rcgen::SanType::IpAddress([127, 0, 0, 1].into())];
        let server_key = rcgen::KeyPair::generate().expect("key");
        let server = server
            .signed_by(&server_key, &authority)
            .expect("certificate");
        let key = rustls::pki_types::PrivatePkcs8KeyDer::from(server_key.serialize_der());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(vec![server.der().clone()], key.into())
            .expect("server config");
        config.alpn_protocols = vec![b"h2".to_vec()];
        (authority.der().clone(), config)
    }

    /// An HTTPS server on loopback that answers every request with its HTTP version.
    async fn https_server(config: rustls::ServerConfig) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("addr");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let Ok(tls) = acceptor.accept(socket).await else {
                    continue;
                };
                let answer = hyper::service::service_fn(|request: Request<Incoming>| async move {
                    let version = format!("{:?}", request.version());
                    Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from(
                        version,
                    ))))
                });
                let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), answer)
                    .await;
            }
        });
        format!("https://{address}/v1/chat/completions")
    }

    #[tokio::test]
    async fn https_verifies_the_server_and_speaks_http2_by_alpn() {
        let (authority, server) = authority_and_server();
        let url: Uri = https_server(server).await.parse().expect("uri");
        let mut roots = rustls::RootCertStore::empty();
        roots.add(authority).expect("root");
        let trusting = crate::tls::client_config(roots).expect("tls config");
        let response = HttpClient::new(trusting, Matcher::builder().build())
            .post(url.clone(), HeaderMap::new(), b"{}".to_vec())
            .await
            .expect("an answer over TLS");
        let body = body_of(response).await;
        assert_eq!(&body[..], b"HTTP/2.0", "ALPN chose HTTP/2");

        let untrusting = crate::tls::provider_config(false).expect("tls config");
        let error = HttpClient::new(untrusting, Matcher::builder().build())
            .post(url, HeaderMap::new(), b"{}".to_vec())
            .await
            .expect_err("a client without the authority's root refuses the server");
        let chain = crate::error::chain(&error);
        assert!(chain.contains("certificate"), "{chain}");
    }

    async fn body_of(response: Response<Incoming>) -> Bytes {
        let body = response.into_body().collect().await.expect("body");
        body.to_bytes()
    }

    fn client(proxy: &str, no_proxy: &str) -> HttpClient {
        let tls = crate::tls::provider_config(false).expect("tls config");
        HttpClient::new(tls, Matcher::builder().all(proxy).no(no_proxy).build())
    }

    #[tokio::test]
    async fn plain_http_goes_to_the_proxy_in_absolute_form_with_credentials() {
        let (address, head) = proxy(
            "HTTP/1.1 200 OK\r\ncontent-length: 11\r\nconnection: close\r\n\r\n{\"ok\":true}",
        )
        .await;
        let uri: Uri = "http://model.invalid/v1/chat/completions"
            .parse()
            .expect("uri");
        let response = client(&address, "")
            .post(uri, HeaderMap::new(), b"{}".to_vec())
            .await
            .expect("an answer through the proxy");
        let body = body_of(response).await;
        assert_eq!(&body[..], b"{\"ok\":true}");
        let head = head.await.expect("the proxy saw a request");
        assert!(
            head.starts_with("post http://model.invalid/v1/chat/completions http/1.1\r\n"),
            "{head}"
        );
        // base64("user:secret")
        assert!(
            head.contains("proxy-authorization: basic dxnlcjpzzwnyzxq=\r\n"),
            "{head}"
        );
    }

    #[tokio::test]
    async fn https_is_tunnelled_through_connect_with_credentials() {
        let (address, head) =
            proxy("HTTP/1.1 407 Proxy Authentication Required\r\ncontent-length: 0\r\n\r\n").await;
        let uri: Uri = "https://model.invalid/v1/chat/completions"
            .parse()
            .expect("uri");
        let error = client(&address, "")
            .post(uri, HeaderMap::new(), b"{}".to_vec())
            .await
            .expect_err("the proxy refused the tunnel");
        let head = head.await.expect("the proxy saw a request");
        assert!(
            head.starts_with("connect model.invalid:443 http/1.1\r\n"),
            "{head}"
        );
        assert!(
            head.contains("proxy-authorization: basic dxnlcjpzzwnyzxq=\r\n"),
            "{head}"
        );
        assert!(
            crate::error::chain(&error).contains("proxy"),
            "{}",
            crate::error::chain(&error)
        );
    }

    #[tokio::test]
    async fn no_proxy_hosts_are_reached_directly() {
        let (address, _refusing_proxy) =
            proxy("HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n").await;
        let (origin, origin_head) =
            proxy("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}").await;
        let origin = origin.replace("user:secret@", "");
        let uri: Uri = format!("{origin}/v1/chat/completions")
            .parse()
            .expect("uri");
        let response = client(&address, "127.0.0.1")
            .post(uri, HeaderMap::new(), b"{}".to_vec())
            .await
            .expect("a direct answer");
        assert_eq!(response.status(), 200);
        let seen = origin_head.await.expect("the origin saw the request");
        assert!(
            seen.starts_with("post /v1/chat/completions http/1.1\r\n"),
            "{seen}"
        );
        assert!(!seen.contains("proxy-authorization"), "{seen}");
    }
}
