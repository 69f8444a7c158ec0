//! Shard state files and their merge (docs/model.md §7).
//!
//! A shard (`run … --shard K/N`, `sensitivity … --shard K/N`) writes one file,
//! `state/shard-K-of-N.bin`, holding everything `merge` needs to finish the run exactly as
//! a single process would: the scenario's input files, the job's settings, and the
//! mergeable state of the shard's blocks (or design points).
//!
//! **Layout** (all integers little-endian):
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `ECOSTATE` |
//! | 4 | format version ([`FORMAT_VERSION`]) |
//! | 8 | body length L |
//! | L | body: an 8-byte header length H, the [`Header`] (H bytes), the CRC-32 of the header (4 bytes), then the [`Body`] |
//! | 4 | CRC-32 of the body |
//!
//! The header and body are serialised with postcard (serde). A file cut short, with bytes
//! after its end, or with any byte changed, fails the length or checksum test before
//! anything in it is used. The checksum guards against damage, not tampering, so it is a
//! CRC (several times cheaper than SHA-256 over a merge's tens of megabytes).

use crate::error::{Error, Problem, Result};
use crate::model::SourceFile;
use crate::montecarlo::{McState, Shard};
use crate::sensitivity::analysis::Evaluations;
use serde::{Deserialize, Serialize};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

pub const MAGIC: &[u8; 8] = b"ECOSTATE";
/// Bumped whenever the layout or any serialised type changes.
pub const FORMAT_VERSION: u32 = 4;
/// Bytes of the checksum that ends the file.
const CHECKSUM: u64 = 4;
/// The folder of an output directory that holds its shard state.
pub const STATE_DIR: &str = "state";

/// What identifies a shard and the run it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// The ecocomp version that wrote the file.
    pub tool_version: String,
    /// [`crate::model::Scenario::inputs_sha256`]: the scenario file and its data.
    pub scenario_sha256: String,
    pub scenario_name: String,
    pub seed: u64,
    /// Monte Carlo draws, or sensitivity samples.
    pub draws: u64,
    pub shard: Shard,
    pub job: JobSpec,
}

/// The settings of the job, which every shard must share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum JobSpec {
    Run {
        baseline: Option<String>,
        plot_regions: Vec<String>,
        save_draws: bool,
        draws_format: String,
    },
    Sensitivity {
        formula: String,
        method: crate::sensitivity::analysis::Method,
        regions: Vec<String>,
    },
}

/// The computed part of a shard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Payload {
    Run(McState),
    Sensitivity(Evaluations),
}

/// Everything after the header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Body {
    /// The files the scenario was built from, the scenario file first.
    pub inputs: Vec<SourceFile>,
    pub payload: Payload,
    /// Draw files the shard wrote beside its state (relative to its output folder).
    pub draw_files: Vec<String>,
}

/// The file name of shard `s`'s state.
pub fn file_name(s: Shard) -> String {
    format!("{STATE_DIR}/shard-{}-of-{}.bin", s.k, s.n)
}

fn encode_err(e: postcard::Error) -> Error {
    Error::Runtime(format!("cannot serialise the shard state: {e}"))
}

/// A writer that counts and checksums what passes through it.
struct Tally<W> {
    inner: W,
    crc: crc32fast::Hasher,
    len: u64,
}

impl<W: Write> Write for Tally<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Serialise a state file into `out`, streaming: a shard's state is megabytes, and building
/// it in memory first cost a copy and the page faults of a buffer as large. The body
/// length, known only at the end, is written into its place afterwards.
pub fn encode_into<W: Write + Seek>(out: W, header: &Header, body: &Body) -> Result<W> {
    let io = |e: std::io::Error| Error::Runtime(format!("cannot write the shard state: {e}"));
    let mut out = out;
    out.write_all(MAGIC).map_err(io)?;
    out.write_all(&FORMAT_VERSION.to_le_bytes()).map_err(io)?;
    out.write_all(&[0u8; 8]).map_err(io)?;
    let head = postcard::to_stdvec(header).map_err(encode_err)?;
    // The buffer sits above the checksum, so the CRC runs over whole buffers, not over
    // postcard's many small writes.
    let mut w = std::io::BufWriter::with_capacity(
        1 << 16,
        Tally {
            inner: out,
            crc: crc32fast::Hasher::new(),
            len: 0,
        },
    );
    w.write_all(&(head.len() as u64).to_le_bytes())
        .map_err(io)?;
    w.write_all(&head).map_err(io)?;
    // The header's own checksum lets `merge` trust a header it reads without the body.
    w.write_all(&crc32fast::hash(&head).to_le_bytes())
        .map_err(io)?;
    postcard::to_io(body, &mut w).map_err(encode_err)?;
    let Tally {
        inner: mut out,
        crc,
        len,
    } = w.into_inner().map_err(|e| io(e.into_error()))?;
    out.write_all(&crc.finalize().to_le_bytes()).map_err(io)?;
    out.seek(SeekFrom::Start(12)).map_err(io)?;
    out.write_all(&len.to_le_bytes()).map_err(io)?;
    out.seek(SeekFrom::End(0)).map_err(io)?;
    Ok(out)
}

/// The bytes of a state file.
pub fn encode(header: &Header, body: &Body) -> Result<Vec<u8>> {
    Ok(encode_into(std::io::Cursor::new(Vec::new()), header, body)?.into_inner())
}

/// Write a state file at `path`.
pub fn write(path: &Path, header: &Header, body: &Body) -> Result<()> {
    let io = |e: std::io::Error| Error::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let file = std::fs::File::create(path).map_err(io)?;
    encode_into(file, header, body)?;
    Ok(())
}

fn bad(path: &Path, msg: impl Into<String>) -> Error {
    Error::invalid(vec![Problem::new(path, "shard state", path.display(), msg)])
}

/// The little-endian unsigned integer of `width` bytes at `at` (0 where `bytes` is too
/// short: callers check the length first).
fn le_u64(bytes: &[u8], at: usize, width: usize) -> u64 {
    bytes.get(at..at + width).map_or(0, |b| {
        b.iter().rev().fold(0, |acc, &x| acc << 8 | u64::from(x))
    })
}

/// Check the magic, version and length of a state file of `size` bytes whose first bytes
/// are `start` (at least its 20-byte frame header, or the whole file); returns the body
/// length.
fn check_frame(path: &Path, start: &[u8], size: u64) -> Result<usize> {
    if size < 20 || start.len() < 20 || &start[..8] != MAGIC {
        return Err(bad(path, "is not an ecocomp shard state file"));
    }
    let version = le_u64(start, 8, 4);
    if version != u64::from(FORMAT_VERSION) {
        return Err(bad(
            path,
            format!(
                "has state format version {version}; this ecocomp reads version {FORMAT_VERSION}: merge with the ecocomp that wrote the shards"
            ),
        ));
    }
    let len = le_u64(start, 12, 8);
    let expected = 20u64.saturating_add(len).saturating_add(CHECKSUM);
    if size != expected {
        return Err(bad(
            path,
            format!(
                "is {size} bytes long but its header says {expected}: the file is truncated or has extra bytes"
            ),
        ));
    }
    usize::try_from(len).map_err(|_| bad(path, "is too large for this machine"))
}

/// The header at the start of a body (or of its first bytes), and the bytes it takes with
/// its length and checksum.
fn decode_header(path: &Path, inner: &[u8]) -> Result<(Header, usize)> {
    let hlen = Some(le_u64(inner, 0, 8) as usize)
        .filter(|&h| inner.len() >= 12 && h <= inner.len() - 12)
        .ok_or_else(|| bad(path, "has an unreadable header length"))?;
    let head = &inner[8..8 + hlen];
    if crc32fast::hash(head).to_le_bytes()[..] != inner[8 + hlen..12 + hlen] {
        return Err(bad(
            path,
            "fails its header's CRC-32 checksum: the file is corrupted",
        ));
    }
    let header = postcard::from_bytes(head)
        .map_err(|e| bad(path, format!("has an unreadable header: {e}")))?;
    Ok((header, 12 + hlen))
}

/// A state file's header, read without its body: what `merge` checks before it reads any
/// file whole. The frame (magic, version, length) is checked against the file's size and
/// the header against its own checksum; the body's checksum is checked when the file is
/// read whole.
fn peek_header(path: &Path) -> Result<Header> {
    use std::io::Read;
    let cannot = |e: std::io::Error| bad(path, format!("cannot be read: {e}"));
    let mut f = std::fs::File::open(path).map_err(cannot)?;
    let size = f.metadata().map_err(cannot)?.len();
    let mut frame = [0u8; 28];
    let got = f.read(&mut frame).map_err(cannot)?;
    let mut start = frame[..got].to_vec();
    if got < frame.len() {
        f.read_to_end(&mut start).map_err(cannot)?;
    }
    let len = check_frame(path, &start, size)?;
    let hlen = usize::try_from(le_u64(&start, 20, 8))
        .ok()
        .filter(|&h| start.len() >= 28 && h <= len.saturating_sub(12))
        .ok_or_else(|| bad(path, "has an unreadable header length"))?;
    let mut head = vec![0u8; hlen + 4];
    f.read_exact(&mut head).map_err(cannot)?;
    start.extend_from_slice(&head);
    decode_header(path, &start[20..]).map(|(h, _)| h)
}

/// A state file read and checked: its header, and its body still serialised.
pub struct StateFile {
    pub path: PathBuf,
    pub header: Header,
    /// The whole file, and where the serialised body starts and ends in it.
    bytes: Vec<u8>,
    body: std::ops::Range<usize>,
    /// CRC-32 of the body, hex (recorded in the merge's manifest).
    pub checksum: String,
}

impl StateFile {
    /// Read `path` and check its magic, version, length and checksum, then its header.
    pub fn read(path: &Path) -> Result<StateFile> {
        Self::read_into(path, Vec::new())
    }

    /// [`read`](Self::read), reusing `buf`'s memory for the file's bytes (a merge reads
    /// its shards one at a time into one buffer).
    fn read_into(path: &Path, mut buf: Vec<u8>) -> Result<StateFile> {
        use std::io::Read;
        buf.clear();
        std::fs::File::open(path)
            .and_then(|mut f| f.read_to_end(&mut buf))
            .map_err(|e| bad(path, format!("cannot be read: {e}")))?;
        let bytes = buf;
        let len = check_frame(path, &bytes, bytes.len() as u64)?;
        let inner = &bytes[20..20 + len];
        let crc = crc32fast::hash(inner);
        if crc.to_le_bytes()[..] != bytes[20 + len..] {
            return Err(bad(
                path,
                "fails its CRC-32 checksum: the file is corrupted",
            ));
        }
        let (header, head_span) = decode_header(path, inner)?;
        Ok(StateFile {
            path: path.to_path_buf(),
            header,
            body: 20 + head_span..20 + len,
            bytes,
            checksum: format!("{crc:08x}"),
        })
    }

    /// The file without its bytes (its body can no longer be read), and the bytes.
    fn take_bytes(mut self) -> (StateFile, Vec<u8>) {
        let bytes = std::mem::take(&mut self.bytes);
        self.body = 0..0;
        (self, bytes)
    }

    /// The body, deserialised.
    pub fn body(&self) -> Result<Body> {
        postcard::from_bytes(&self.bytes[self.body.clone()])
            .map_err(|e| bad(&self.path, format!("has an unreadable body: {e}")))
    }
}

/// One shard as recorded in the merge's manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardRecord {
    pub k: u64,
    pub file: PathBuf,
    pub checksum: String,
    pub draw_files: Vec<String>,
}

/// Shards merged into one: the common header (its `shard` is `0/N`), the scenario inputs,
/// the combined payload, and each shard's record.
#[derive(Debug, Clone)]
pub struct Merged {
    pub header: Header,
    pub inputs: Vec<SourceFile>,
    pub payload: Payload,
    pub shards: Vec<ShardRecord>,
}

/// The state files named by `args`: a file itself, or every `state/shard-*.bin` of an
/// output folder.
pub fn state_files(args: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for a in args {
        if a.is_file() {
            files.push(a.clone());
            continue;
        }
        let dir = a.join(STATE_DIR);
        let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| {
                bad(
                    a,
                    format!(
                        "is not a shard output: {} cannot be read ({e})",
                        dir.display()
                    ),
                )
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "bin"))
            .collect();
        if found.is_empty() {
            return Err(bad(
                a,
                format!("has no shard state file in {}", dir.display()),
            ));
        }
        found.sort();
        files.extend(found);
    }
    Ok(files)
}

/// Check that `files` are the N shards of one run, each K once, and combine their states
/// in shard order. Every check runs before any state is combined, and a failure names the
/// file at fault.
pub fn merge(files: &[PathBuf]) -> Result<Merged> {
    // The headers are checked first; `combine` then reads each file whole, once, one at a
    // time into one buffer: a merge's memory does not grow with the number of shards.
    let mut states = Vec::with_capacity(files.len());
    for f in files {
        states.push(Peeked {
            path: f.clone(),
            header: peek_header(f)?,
        });
    }
    let Some(first) = states.first() else {
        return Err(Error::invalid(vec![Problem::new(
            "merge",
            "command line",
            "",
            "no shard state files were given",
        )]));
    };
    let reference = first.header.clone();
    let n = reference.shard.n;
    for s in &states {
        check_same(&reference, &states[0].path, s)?;
    }
    states.sort_by_key(|s| s.header.shard.k);
    for pair in states.windows(2) {
        if pair[0].header.shard.k == pair[1].header.shard.k {
            return Err(bad(
                &pair[1].path,
                format!(
                    "is shard {} of {n}, and so is {}: each shard must be given once",
                    pair[1].header.shard.k,
                    pair[0].path.display()
                ),
            ));
        }
    }
    let have: Vec<u64> = states.iter().map(|s| s.header.shard.k).collect();
    let missing: Vec<String> = (0..n)
        .filter(|k| !have.contains(k))
        .map(|k| k.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(bad(
            &states[0].path,
            format!(
                "belongs to a run of {n} shards, but shard(s) {} are missing",
                missing.join(", ")
            ),
        ));
    }
    combine(reference, states)
}

/// A state file's path and header, before its body is read.
struct Peeked {
    path: PathBuf,
    header: Header,
}

/// Refuse a shard of another run than `reference`'s (read from `ref_path`).
fn check_same(reference: &Header, ref_path: &Path, s: &Peeked) -> Result<()> {
    let h = &s.header;
    let differs = |what: &str, theirs: String, ours: String| {
        Err(bad(
            &s.path,
            format!(
                "has {what} {theirs}, but {} has {ours}: the shards are not of one run",
                ref_path.display()
            ),
        ))
    };
    if h.tool_version != reference.tool_version {
        return differs(
            "ecocomp version",
            h.tool_version.clone(),
            reference.tool_version.clone(),
        );
    }
    if h.scenario_sha256 != reference.scenario_sha256 {
        return differs(
            "scenario SHA-256",
            format!("{} ({})", h.scenario_sha256, h.scenario_name),
            format!(
                "{} ({})",
                reference.scenario_sha256, reference.scenario_name
            ),
        );
    }
    if h.seed != reference.seed {
        return differs("seed", h.seed.to_string(), reference.seed.to_string());
    }
    if h.draws != reference.draws {
        return differs("draws", h.draws.to_string(), reference.draws.to_string());
    }
    if h.shard.n != reference.shard.n {
        return differs(
            "shard count N",
            h.shard.n.to_string(),
            reference.shard.n.to_string(),
        );
    }
    if h.shard.k >= h.shard.n {
        return Err(bad(
            &s.path,
            format!("claims to be shard {} of {}", h.shard.k, h.shard.n),
        ));
    }
    if h.job != reference.job {
        return differs(
            "job settings",
            format!("{:?}", h.job),
            format!("{:?}", reference.job),
        );
    }
    Ok(())
}

/// Append the bodies of `states` (sorted by K, their headers checked) one after another.
/// A file that fails its checksum stops the merge here, before anything is written.
fn combine(reference: Header, states: Vec<Peeked>) -> Result<Merged> {
    let mut merged: Option<(Vec<SourceFile>, Payload)> = None;
    let mut shards = Vec::with_capacity(states.len());
    let mut buf = Vec::new();
    for s in &states {
        let whole = StateFile::read_into(&s.path, buf)?;
        if whole.header != s.header {
            return Err(bad(
                &s.path,
                "changed while the merge was reading it: merge again once the shards are finished",
            ));
        }
        let body = whole.body()?;
        let (whole, bytes) = whole.take_bytes();
        buf = bytes;
        shards.push(ShardRecord {
            k: s.header.shard.k,
            file: s.path.clone(),
            checksum: whole.checksum,
            draw_files: body.draw_files.clone(),
        });
        merged = Some(match merged {
            None => (body.inputs, body.payload),
            Some((inputs, mut acc)) => {
                let appended = match (&mut acc, body.payload) {
                    (Payload::Run(a), Payload::Run(b)) => a.append(b),
                    (Payload::Sensitivity(a), Payload::Sensitivity(b)) => a.append(b),
                    _ => Err("holds another kind of job".to_string()),
                };
                appended.map_err(|e| bad(&s.path, e))?;
                (inputs, acc)
            }
        });
    }
    let Some((inputs, payload)) = merged else {
        return Err(Error::Runtime("no shard states to combine".into()));
    };
    Ok(Merged {
        header: Header {
            shard: Shard {
                k: 0,
                n: reference.shard.n,
            },
            ..reference
        },
        inputs,
        payload,
        shards,
    })
}
