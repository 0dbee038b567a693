//! `cargo xtask fuzz`: a stable, in-process fuzzer for the readers of untrusted DER, the
//! OCSP request reader of the public `/ocsp` (`ca::ocsp::parse_request`) and the CSR reader
//! of every issuance (`ca::issue::check_csr`). It needs no nightly and no libFuzzer: inputs
//! are real requests and CSRs (the seeds) changed by mutations that `arbitrary` picks from
//! random bytes, and whole ASN.1 trees that `arbitrary` builds, some with lengths that lie.
//! There is no coverage feedback; an input whose outcome (the error kind, the refusal code)
//! was not seen before joins the corpus. A panic fails its target: the input is written to
//! `target/fuzz/<target>/crash-<sha256>` and the run exits non-zero.
//!
//! `certdesk-fuzz [--seconds N] [--seed S] [ocsp] [csr]` (60 s per target by default).

use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use arbitrary::{Arbitrary, Unstructured};
use der::Encode;
use sha2::Digest;

/// The most inputs kept in a target's corpus.
const CORPUS_MAX: usize = 4096;
/// The largest input a mutation may grow to.
const INPUT_MAX: usize = 16 * 1024;

/// xorshift64*: reproducible from `--seed`.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Byte values that sit on the edges of DER: length forms, tags, signs.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Interesting {
    Zero,
    Max7,
    Indefinite,
    Long1,
    Long2,
    Long4,
    Long8,
    Ff,
    Sequence,
    Set,
    Integer,
    OctetString,
    Context0,
    Any(u8),
}

impl Interesting {
    fn byte(self) -> u8 {
        match self {
            Interesting::Zero => 0x00,
            Interesting::Max7 => 0x7f,
            Interesting::Indefinite => 0x80,
            Interesting::Long1 => 0x81,
            Interesting::Long2 => 0x82,
            Interesting::Long4 => 0x84,
            Interesting::Long8 => 0x88,
            Interesting::Ff => 0xff,
            Interesting::Sequence => 0x30,
            Interesting::Set => 0x31,
            Interesting::Integer => 0x02,
            Interesting::OctetString => 0x04,
            Interesting::Context0 => 0xa0,
            Interesting::Any(b) => b,
        }
    }
}

/// One change to an input. Positions are taken modulo the input's length.
#[derive(Arbitrary, Debug)]
enum Mutation {
    FlipBit {
        at: usize,
        bit: u8,
    },
    SetByte {
        at: usize,
        value: Interesting,
    },
    Insert {
        at: usize,
        bytes: Vec<u8>,
    },
    Delete {
        at: usize,
        len: u8,
    },
    Duplicate {
        from: usize,
        len: u8,
        to: usize,
    },
    Truncate {
        at: usize,
    },
    /// The tail of another corpus input from `from`, put in at `at`.
    Splice {
        other: usize,
        at: usize,
        from: usize,
    },
    /// A short length octet at `at` rewritten in long form with `extra` leading zero octets
    /// (never DER), or as the indefinite form.
    LongerLength {
        at: usize,
        extra: u8,
        indefinite: bool,
    },
    /// Four octets at `at` replaced by a long-form length claiming `value`.
    ClaimLength {
        at: usize,
        value: u32,
    },
}

fn apply(m: &Mutation, input: &mut Vec<u8>, corpus: &[Vec<u8>]) {
    let len = input.len();
    let at = |i: usize| if len == 0 { 0 } else { i % len };
    match *m {
        Mutation::FlipBit { at: i, bit } if len > 0 => input[at(i)] ^= 1 << (bit % 8),
        Mutation::SetByte { at: i, value } if len > 0 => input[at(i)] = value.byte(),
        Mutation::Insert { at: i, ref bytes } => {
            let p = if len == 0 { 0 } else { i % (len + 1) };
            input.splice(p..p, bytes.iter().copied().take(64));
        }
        Mutation::Delete { at: i, len: n } if len > 0 => {
            let p = at(i);
            let end = (p + usize::from(n) + 1).min(len);
            input.drain(p..end);
        }
        Mutation::Duplicate { from, len: n, to } if len > 0 => {
            let p = at(from);
            let chunk: Vec<u8> = input[p..(p + usize::from(n) + 1).min(len)].to_vec();
            let q = at(to);
            input.splice(q..q, chunk);
        }
        Mutation::Truncate { at: i } if len > 0 => input.truncate(at(i)),
        Mutation::Splice { other, at: i, from } if !corpus.is_empty() => {
            let o = &corpus[other % corpus.len()];
            if !o.is_empty() {
                let p = if len == 0 { 0 } else { i % (len + 1) };
                input.splice(p..p, o[from % o.len()..].iter().copied());
            }
        }
        Mutation::LongerLength { at: i, extra, indefinite } if len > 0 => {
            let p = at(i);
            let short = input[p];
            if indefinite {
                input[p] = 0x80;
                input.extend([0, 0]);
            } else if short < 0x80 {
                let zeros = usize::from(extra % 4);
                let mut long = vec![0x80 | (zeros as u8 + 1)];
                long.extend(std::iter::repeat_n(0u8, zeros));
                long.push(short);
                input.splice(p..=p, long);
            }
        }
        Mutation::ClaimLength { at: i, value } if len > 0 => {
            let p = at(i);
            let claim = [&[0x84][..], &value.to_be_bytes()].concat();
            let end = (p + claim.len()).min(len);
            input.splice(p..end, claim);
        }
        _ => {}
    }
    input.truncate(INPUT_MAX);
}

/// An ASN.1 tree `arbitrary` builds whole: tags from OCSP and X.509, lengths true or not.
#[derive(Arbitrary, Debug)]
enum Node {
    Primitive {
        tag: Interesting,
        body: Vec<u8>,
    },
    Constructed {
        tag: Interesting,
        children: Vec<Node>,
    },
    /// A header claiming `claimed` bytes, whatever follows.
    Lying {
        tag: Interesting,
        claimed: u16,
        body: Vec<u8>,
    },
}

fn der_length(n: usize, out: &mut Vec<u8>) {
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
}

fn encode_node(node: &Node, depth: usize, out: &mut Vec<u8>) {
    if out.len() > INPUT_MAX || depth > 24 {
        return;
    }
    match node {
        Node::Primitive { tag, body } => {
            out.push(tag.byte());
            der_length(body.len(), out);
            out.extend(body);
        }
        Node::Constructed { tag, children } => {
            let mut inner = Vec::new();
            for c in children {
                encode_node(c, depth + 1, &mut inner);
            }
            out.push(tag.byte() | 0x20);
            der_length(inner.len(), out);
            out.extend(inner);
        }
        Node::Lying { tag, claimed, body } => {
            out.push(tag.byte());
            der_length(usize::from(*claimed), out);
            out.extend(body);
        }
    }
}

/// What a target is: a name, its seeds, and a run that returns an outcome signature.
struct Target {
    name: &'static str,
    seeds: Vec<Vec<u8>>,
    run: fn(&[u8]) -> String,
}

fn ocsp_outcome(input: &[u8]) -> String {
    let accepted = certdesk::ca::ocsp::parse_request(input).is_some();
    let kind = <x509_ocsp::OcspRequest as der::Decode>::from_der(input).err().map(|e| format!("{:?}", e.kind()));
    // The kind without positions or values: one entry per way of failing.
    let kind = kind.map(|k| k.split(['(', '{']).next().unwrap_or_default().to_owned());
    format!("{accepted} {kind:?}")
}

fn csr_outcome(input: &[u8]) -> String {
    match certdesk::ca::issue::check_csr(input) {
        Ok(_) => "accepted".into(),
        Err(e) => format!("{:?}", e.code()),
    }
}

/// Real OCSP requests: one or more CertIDs (SHA-1 and SHA-256), with and without a nonce,
/// and openssl's own when openssl is there.
fn ocsp_seeds(rng: &mut Rng) -> Result<Vec<Vec<u8>>> {
    use const_oid::db::rfc5912::{ID_SHA_1, ID_SHA_256};
    use der::asn1::{Null, OctetString};
    use x509_cert::spki::AlgorithmIdentifierOwned;
    let mut seeds = Vec::new();
    for (count, sha256, nonce) in [(1, false, false), (1, true, true), (3, false, true), (10, true, false)] {
        let (oid, n) = if sha256 { (ID_SHA_256, 32) } else { (ID_SHA_1, 20) };
        let mut serial = rng.bytes(16);
        serial[0] &= 0x7f;
        let list = (0..count)
            .map(|_| -> Result<x509_ocsp::Request> {
                Ok(x509_ocsp::Request {
                    req_cert: x509_ocsp::CertId {
                        hash_algorithm: AlgorithmIdentifierOwned { oid, parameters: Some(Null.into()) },
                        issuer_name_hash: OctetString::new(rng.bytes(n))?,
                        issuer_key_hash: OctetString::new(rng.bytes(n))?,
                        serial_number: x509_cert::serial_number::SerialNumber::new(&serial)?,
                    },
                    single_request_extensions: None,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let extensions = if nonce {
            let value = x509_ocsp::ext::Nonce::new(rng.bytes(16))?.to_der()?;
            Some(vec![x509_cert::ext::Extension {
                extn_id: const_oid::db::rfc6960::ID_PKIX_OCSP_NONCE,
                critical: false,
                extn_value: OctetString::new(value)?,
            }])
        } else {
            None
        };
        let request = x509_ocsp::OcspRequest {
            tbs_request: x509_ocsp::TbsRequest {
                version: x509_ocsp::Version::V1,
                requestor_name: None,
                request_list: list,
                request_extensions: extensions,
            },
            optional_signature: None,
        };
        seeds.push(request.to_der()?);
    }
    seeds.extend(openssl_ocsp_request());
    Ok(seeds)
}

/// `openssl ocsp -reqout` for a throw-away issuer, if openssl runs.
fn openssl_ocsp_request() -> Option<Vec<u8>> {
    let key = rcgen::KeyPair::generate().ok()?;
    let ca = rcgen::CertificateParams::new(Vec::<String>::new()).ok()?.self_signed(&key).ok()?;
    let dir = std::env::temp_dir().join(format!("certdesk-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let issuer = dir.join("issuer.pem");
    std::fs::write(&issuer, ca.pem()).ok()?;
    let out = dir.join("req.der");
    let status = std::process::Command::new("openssl")
        .args(["ocsp", "-issuer"])
        .arg(&issuer)
        .args(["-serial", "0x7f0102030405060708090a0b0c0d0e0f", "-reqout"])
        .arg(&out)
        .stderr(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .status()
        .ok()?;
    let der = status.success().then(|| std::fs::read(&out).ok()).flatten();
    let _ = std::fs::remove_dir_all(&dir);
    der
}

/// Real CSRs: P-256, P-384 (allowed) and Ed25519 (refused), each as DER and as PEM.
fn csr_seeds() -> Result<Vec<Vec<u8>>> {
    let mut seeds = Vec::new();
    for alg in [&rcgen::PKCS_ECDSA_P256_SHA256, &rcgen::PKCS_ECDSA_P384_SHA384, &rcgen::PKCS_ED25519] {
        let key = rcgen::KeyPair::generate_for(alg)?;
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new())?;
        p.distinguished_name.push(rcgen::DnType::CommonName, "fuzz seed");
        let csr = p.serialize_request(&key)?;
        seeds.push(csr.der().to_vec());
        seeds.push(csr.pem()?.into_bytes());
    }
    Ok(seeds)
}

/// The message of the last panic, kept by the hook instead of printed.
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

struct Figures {
    executions: u64,
    corpus: usize,
    seconds: f64,
    crash: Option<PathBuf>,
}

fn fuzz(target: &Target, rng: &mut Rng, budget: Duration, out_dir: &std::path::Path) -> Result<Figures> {
    let mut corpus: Vec<Vec<u8>> = target.seeds.clone();
    let mut seen: HashSet<String> = HashSet::new();
    for s in &corpus {
        seen.insert((target.run)(s));
    }
    let start = Instant::now();
    let mut executions = 0u64;
    while start.elapsed() < budget {
        for _ in 0..64 {
            let noise = rng.bytes(256);
            let mut u = Unstructured::new(&noise);
            let input = if rng.below(8) == 0 {
                let mut bytes = Vec::new();
                if let Ok(node) = Node::arbitrary(&mut u) {
                    encode_node(&node, 0, &mut bytes);
                }
                bytes
            } else {
                let mut input = corpus[rng.below(corpus.len())].clone();
                for _ in 0..=rng.below(4) {
                    if let Ok(m) = Mutation::arbitrary(&mut u) {
                        apply(&m, &mut input, &corpus);
                    }
                }
                input
            };
            executions += 1;
            match std::panic::catch_unwind(AssertUnwindSafe(|| (target.run)(&input))) {
                Ok(outcome) => {
                    if seen.insert(outcome) {
                        if corpus.len() >= CORPUS_MAX {
                            let i = target.seeds.len() + rng.below(corpus.len() - target.seeds.len());
                            corpus[i] = input;
                        } else {
                            corpus.push(input);
                        }
                    }
                }
                Err(_) => {
                    let dir = out_dir.join(target.name);
                    std::fs::create_dir_all(&dir)?;
                    let path = dir.join(format!("crash-{}", hex::encode(sha2::Sha256::digest(&input))));
                    std::fs::write(&path, &input)?;
                    let message = LAST_PANIC.lock().ok().and_then(|m| m.clone()).unwrap_or_default();
                    eprintln!("{}: PANIC after {executions} executions: {message}", target.name);
                    eprintln!("{}: input kept in {}", target.name, path.display());
                    let seconds = start.elapsed().as_secs_f64();
                    return Ok(Figures { executions, corpus: corpus.len(), seconds, crash: Some(path) });
                }
            }
        }
    }
    Ok(Figures { executions, corpus: corpus.len(), seconds: start.elapsed().as_secs_f64(), crash: None })
}

fn main() -> Result<()> {
    let mut seconds = 60u64;
    let mut seed = None;
    let mut names = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seconds" => seconds = args.next().context("--seconds N")?.parse()?,
            "--seed" => seed = Some(args.next().context("--seed S")?.parse::<u64>()?),
            "ocsp" | "csr" => names.push(a),
            other => bail!("unknown argument {other:?}: certdesk-fuzz [--seconds N] [--seed S] [ocsp] [csr]"),
        }
    }
    if names.is_empty() {
        names = vec!["ocsp".into(), "csr".into()];
    }
    let seed = match seed {
        Some(s) => s,
        None => u64::from_le_bytes(certdesk::random::random_bytes::<8>()?),
    };
    let mut rng = Rng(seed | 1);
    std::panic::set_hook(Box::new(|info| {
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = Some(info.to_string());
        }
    }));
    let out_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join("fuzz");
    println!("seed {seed} ({seconds} s per target; `--seed {seed}` runs the same inputs again)");
    let mut failed = false;
    for name in &names {
        let target = match name.as_str() {
            "ocsp" => Target { name: "ocsp", seeds: ocsp_seeds(&mut rng)?, run: ocsp_outcome },
            _ => Target { name: "csr", seeds: csr_seeds()?, run: csr_outcome },
        };
        let f = fuzz(&target, &mut rng, Duration::from_secs(seconds), &out_dir)?;
        println!(
            "{:<5} {:>10} executions in {:>6.1} s, {:>8.0}/s, {} seeds, corpus {}, {}",
            target.name,
            f.executions,
            f.seconds,
            f.executions as f64 / f.seconds.max(0.001),
            target.seeds.len(),
            f.corpus,
            if f.crash.is_some() { "PANIC" } else { "no panic" }
        );
        failed |= f.crash.is_some();
    }
    if failed {
        bail!("a target panicked (inputs under {})", out_dir.display());
    }
    Ok(())
}
