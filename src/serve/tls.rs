//! HTTPS for `ucsv serve` (`--tls-cert`, `--tls-key`): rustls over the same router. The
//! certificate chain and the key are PEM files, read at start and again on SIGHUP (a renewed
//! certificate is served to the next connections without a restart; a file that cannot be
//! read then is said, and the certificate in use kept).
//!
//! [`Listener`] accepts TCP connections in a task of its own and makes each TLS handshake
//! in a task too, bounded by [`HANDSHAKE`]: a client that is slow to say hello never holds
//! up the others.

use crate::error::{Error, Result};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::server::TlsStream;

/// How long a client may take over its TLS handshake.
const HANDSHAKE: Duration = Duration::from_secs(10);

/// The certificate and key files, and the configuration made of them.
pub struct Tls {
    cert: PathBuf,
    key: PathBuf,
    config: RwLock<Arc<ServerConfig>>,
}

impl std::fmt::Debug for Tls {
    /// The files, never the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("cert", &self.cert)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// Reads the certificate chain and the key: a clear error naming the file otherwise.
    pub fn load(cert: &Path, key: &Path) -> Result<Tls> {
        Ok(Tls {
            config: RwLock::new(config(cert, key)?),
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
        })
    }

    /// Reads the files again; the connections that come next use them. On an error the
    /// configuration in use is kept.
    pub fn reload(&self) -> Result<()> {
        let fresh = config(&self.cert, &self.key)?;
        *self
            .config
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = fresh;
        Ok(())
    }

    /// The certificate file, for messages.
    pub fn cert(&self) -> &Path {
        &self.cert
    }

    fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        let config = self
            .config
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        tokio_rustls::TlsAcceptor::from(config)
    }
}

/// A usage error about a TLS file.
fn bad(path: &Path, what: String) -> Error {
    Error::Usage {
        message: format!("{}: {what}", path.display()),
        help: "give --tls-cert a PEM file of the certificate chain (the server's certificate \
               first) and --tls-key a PEM file of its private key (PKCS#8, PKCS#1 or SEC1)"
            .into(),
    }
}

fn config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| bad(cert, format!("cannot be read: {e}")))?
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| bad(cert, format!("is not a PEM certificate chain: {e}")))?;
    if chain.is_empty() {
        return Err(bad(cert, "holds no certificate".into()));
    }
    // The key's own error is never shown: it could quote the key.
    let private = PrivateKeyDer::from_pem_file(key)
        .map_err(|_| bad(key, "holds no PEM private key that can be read".into()))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    provider
        .key_provider
        .load_private_key(private.clone_key())
        .map_err(|_| {
            bad(
                key,
                "holds no private key that can be used (RSA, ECDSA or Ed25519)".into(),
            )
        })?;
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(cert, format!("{e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| bad(key, format!("does not go with the certificate: {e}")))?;
    let mut config = config;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The TLS connections of a TCP listener, as axum serves them.
pub struct Listener {
    ready: tokio::sync::mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    accepting: tokio::task::JoinHandle<()>,
}

impl Listener {
    /// Accepts on `tcp`, each connection shaken hands with `tls`'s configuration of the
    /// moment.
    pub fn new(tcp: TcpListener, tls: Arc<Tls>) -> std::io::Result<Listener> {
        let local = tcp.local_addr()?;
        let (tx, ready) = tokio::sync::mpsc::channel(64);
        let accepting = tokio::spawn(async move {
            loop {
                let (stream, peer) = match tcp.accept().await {
                    Ok(accepted) => accepted,
                    Err(_) => {
                        // Out of file descriptors, say: try again shortly.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let acceptor = tls.acceptor();
                let tx = tx.clone();
                tokio::spawn(async move {
                    if let Ok(Ok(stream)) =
                        tokio::time::timeout(HANDSHAKE, acceptor.accept(stream)).await
                    {
                        let _ = tx.send((stream, peer)).await;
                    }
                });
            }
        });
        Ok(Listener {
            ready,
            local,
            accepting,
        })
    }
}

impl Drop for Listener {
    /// No connection is accepted once the server stops serving.
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

impl axum::serve::Listener for Listener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accepting task never ends while the listener lives.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
