//! Throwaway certificate authorities and certificates for TLS tests (rcgen).

use std::path::{Path, PathBuf};

use rcgen::{CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair};

pub type Ca = CertifiedIssuer<'static, KeyPair>;

/// A self-signed CA named `name`.
pub fn ca(name: &str) -> Ca {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("CA")
}

/// A certificate for localhost and 127.0.0.1, good for servers and clients: (cert, key) PEM.
pub fn leaf(ca: &Ca, name: &str) -> (String, String) {
    let mut params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .expect("params");
    params.distinguished_name.push(DnType::CommonName, name);
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let key = KeyPair::generate().expect("key");
    (
        params.signed_by(&key, ca).expect("signed").pem(),
        key.serialize_pem(),
    )
}

/// Writes `text` to `dir/name`.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

/// A path as a command-line argument.
pub fn arg(p: &Path) -> String {
    p.to_str().expect("utf-8 path").to_owned()
}
