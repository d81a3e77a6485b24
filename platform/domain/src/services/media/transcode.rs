//! Background transcoding of uploaded video lessons into HLS.
//!
//! This module owns everything between "an instructor uploaded a file" and "a
//! folder of HLS playlists and segments ready to store": finding `ffmpeg` and
//! `ffprobe`, probing the upload, choosing the rendition ladder (360p / 720p /
//! 1080p, never upscaled), running one ffmpeg per rendition, writing
//! `master.m3u8`, and rewriting stored playlists so that every URI is signed
//! before a playlist is served.
//!
//! It does not own storage, scheduling or time limits: callers hand in a local
//! file and an empty directory, store what comes back, and wrap
//! [`Ffmpeg::transcode`] in `tokio::time::timeout` (dropping the future kills
//! the running ffmpeg). On error the directory may hold partial output, which
//! the caller discards.
//!
//! Uploads are untrusted, so ffmpeg and ffprobe may only read local files
//! (`-protocol_whitelist file`) through a container demuxer from
//! [`CONTAINERS`]: a "video" that is really an HLS playlist or a concat script
//! cannot make them read other files or URLs.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Instant;

use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

/// Demuxers an upload may be read with (mp4/mov, mkv/webm, avi, ts, flv, wmv, mpeg-ps).
const CONTAINERS: &str = "mov,matroska,avi,mpegts,flv,asf,mpeg";
/// Target HLS segment length, also the forced keyframe interval.
const SEGMENT_SECONDS: u32 = 6;
/// Constant rate factor; the rung's `video_kbps` caps the bitrate.
const CRF: u32 = 21;
/// AAC bitrate when the source has audio.
const AUDIO_KBPS: u32 = 128;
/// Only this much of a process's stderr is kept (the tail).
const STDERR_TAIL_BYTES: usize = 8 * 1024;
/// Only this much of a process's stdout is kept (ffprobe's JSON).
const STDOUT_HEAD_BYTES: usize = 4 * 1024 * 1024;
/// Longest process message quoted in an error.
const DETAIL_CHARS: usize = 300;
/// File name of the master playlist inside the output directory.
const MASTER: &str = "master.m3u8";
/// File name of each rendition's media playlist inside its folder.
const MEDIA_PLAYLIST: &str = "index.m3u8";
/// Segment file name pattern passed to ffmpeg, and the first name it yields.
const SEGMENT_PATTERN: &str = "seg_%05d.ts";
const FIRST_SEGMENT: &str = "seg_00000.ts";

/// The standard rendition ladder, lowest first.
const RUNGS: [Rung; 3] = [
    Rung {
        name: "360p",
        height: 360,
        video_kbps: 800,
    },
    Rung {
        name: "720p",
        height: 720,
        video_kbps: 2800,
    },
    Rung {
        name: "1080p",
        height: 1080,
        video_kbps: 5000,
    },
];

/// Why probing, transcoding or rewriting failed.
#[derive(Debug, thiserror::Error)]
pub enum TranscodeError {
    /// ffmpeg or ffprobe is not installed where we looked.
    #[error("{0}")]
    Missing(String),
    /// The input is not a video ffprobe understands, has no video stream or
    /// no duration, or a playlist holds a URI we refuse to sign.
    #[error("{0}")]
    Unreadable(String),
    /// ffmpeg exited non-zero (or wrote output we cannot read back).
    #[error("{0}")]
    Failed(String),
    /// Reading or writing local files failed.
    #[error("file system error during transcoding: {0}")]
    Io(#[from] std::io::Error),
}

impl TranscodeError {
    /// One line, fit to show the instructor who uploaded the video.
    pub fn reason(&self) -> String {
        self.to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Where ffmpeg and ffprobe are: `LYCEUM_FFMPEG` (path to the ffmpeg binary;
/// ffprobe is looked up beside it, then on PATH), else both on PATH.
#[derive(Debug, Clone)]
pub struct Ffmpeg {
    ffmpeg: PathBuf,
    ffprobe: PathBuf,
}

/// What ffprobe says about a video.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    /// Width of the first video stream, in pixels.
    pub width: u32,
    /// Height of the first video stream, in lines.
    pub height: u32,
    /// Container duration (or the video stream's when the container has none).
    pub duration_seconds: f64,
    /// Whether there is an audio stream.
    pub has_audio: bool,
}

/// One step of the rendition ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rung {
    /// Rendition name, also its folder name: "360p", or "low" below 360 lines.
    pub name: &'static str,
    /// Output height in lines (even).
    pub height: u32,
    /// Video bitrate cap in kbit/s.
    pub video_kbps: u32,
}

/// One rendition as written to disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendition {
    /// Rendition name, e.g. "720p".
    pub name: String,
    /// Actual output width in pixels.
    pub width: u32,
    /// Actual output height in lines.
    pub height: u32,
    /// Declared peak bandwidth in bit/s, audio included.
    pub bandwidth: u64,
    /// Media playlist path relative to the output directory, e.g. "360p/index.m3u8".
    pub playlist: String,
}

/// The result of a successful [`Ffmpeg::transcode`].
#[derive(Debug, Clone, PartialEq)]
pub struct Transcoded {
    /// Duration of the source video.
    pub duration_seconds: f64,
    /// Renditions, lowest first.
    pub renditions: Vec<Rendition>,
    /// Master playlist path relative to the output directory ("master.m3u8").
    pub master: String,
    /// Every written file, relative to the output directory, '/'-separated, sorted.
    pub files: Vec<String>,
}

/// The renditions for a source of this height: every standard rung at or
/// below it; a source below 360 lines gets one rendition ("low") at its own
/// even height. Never upscales; a source under 2 lines gets none.
pub fn ladder(source_height: u32) -> Vec<Rung> {
    let standard: Vec<Rung> = RUNGS
        .into_iter()
        .filter(|r| r.height <= source_height)
        .collect();
    let even = source_height & !1;
    if !standard.is_empty() || even == 0 {
        return standard;
    }
    vec![Rung {
        name: "low",
        height: even,
        video_kbps: (RUNGS[0].video_kbps * even / RUNGS[0].height).max(200),
    }]
}

impl Ffmpeg {
    /// Finds ffmpeg and ffprobe from `LYCEUM_FFMPEG` or PATH.
    pub fn locate() -> Result<Self, TranscodeError> {
        match std::env::var_os("LYCEUM_FFMPEG").filter(|v| !v.is_empty()) {
            Some(ffmpeg) => Self::beside(PathBuf::from(ffmpeg)),
            None => Self::on_path(),
        }
    }

    /// The ffmpeg binary found.
    pub fn ffmpeg_path(&self) -> &Path {
        &self.ffmpeg
    }

    /// Uses these two binaries as they are.
    pub fn at(ffmpeg: PathBuf, ffprobe: PathBuf) -> Self {
        Self { ffmpeg, ffprobe }
    }

    fn beside(ffmpeg: PathBuf) -> Result<Self, TranscodeError> {
        if !ffmpeg.is_file() {
            let shown = ffmpeg.display();
            return Err(TranscodeError::Missing(format!(
                "LYCEUM_FFMPEG is set to {shown}, but there is no file there"
            )));
        }
        let sibling = ffmpeg.with_file_name(executable("ffprobe"));
        let ffprobe = Some(sibling)
            .filter(|p| p.is_file())
            .or_else(|| find_on_path("ffprobe"));
        let ffprobe = ffprobe.ok_or_else(|| {
            TranscodeError::Missing(format!(
                "ffprobe was not found next to {} or on PATH",
                ffmpeg.display()
            ))
        })?;
        Ok(Self { ffmpeg, ffprobe })
    }

    fn on_path() -> Result<Self, TranscodeError> {
        let missing = |tool: &str| {
            TranscodeError::Missing(format!("{tool} was not found on PATH (set LYCEUM_FFMPEG)"))
        };
        let ffmpeg = find_on_path("ffmpeg").ok_or_else(|| missing("ffmpeg"))?;
        let ffprobe = find_on_path("ffprobe").ok_or_else(|| missing("ffprobe"))?;
        Ok(Self { ffmpeg, ffprobe })
    }

    /// Reads the dimensions, duration and audio presence of a video.
    pub async fn probe(&self, input: &Path) -> Result<Probe, TranscodeError> {
        Ok(self.inspect(input).await?.probe)
    }

    /// Writes `master.m3u8` and one folder per rendition (`360p/index.m3u8`,
    /// `360p/seg_00000.ts`, ...) into `out_dir` (exists, empty).
    pub async fn transcode(
        &self,
        input: &Path,
        out_dir: &Path,
    ) -> Result<Transcoded, TranscodeError> {
        let source = self.inspect(input).await?;
        let rungs = ladder(source.probe.height);
        if rungs.is_empty() {
            let height = source.probe.height;
            return Err(TranscodeError::Unreadable(format!(
                "the video is too small to transcode ({height} lines)"
            )));
        }
        let mut encoded = Vec::with_capacity(rungs.len());
        for rung in &rungs {
            encoded.push(self.encode(input, &source, rung, out_dir).await?);
        }
        tokio::fs::write(out_dir.join(MASTER), master_playlist(&encoded)).await?;
        Ok(Transcoded {
            duration_seconds: source.probe.duration_seconds,
            renditions: encoded.into_iter().map(|e| e.rendition).collect(),
            master: MASTER.to_owned(),
            files: list_files(out_dir).await?,
        })
    }

    /// Runs ffprobe on `input` and picks the streams we use.
    async fn inspect(&self, input: &Path) -> Result<Source, TranscodeError> {
        let url = file_url(input)?;
        let mut command = Command::new(&self.ffprobe);
        command
            .args(["-hide_banner", "-loglevel", "error"])
            .args([
                "-protocol_whitelist",
                "file",
                "-format_whitelist",
                CONTAINERS,
            ])
            .args(["-print_format", "json", "-show_streams", "-show_format"])
            .arg(&url);
        let finished = run(command, &self.ffprobe).await?;
        if !finished.status.success() {
            let detail = finished.detail(&url);
            return Err(TranscodeError::Unreadable(format!(
                "the file is not a video we can read ({detail})"
            )));
        }
        let json: ProbeJson = serde_json::from_slice(&finished.stdout).map_err(|e| {
            TranscodeError::Unreadable(format!("ffprobe gave output we could not parse ({e})"))
        })?;
        Source::from_json(&json)
    }

    /// Encodes one rendition into `out_dir/<rung name>/`.
    async fn encode(
        &self,
        input: &Path,
        source: &Source,
        rung: &Rung,
        out_dir: &Path,
    ) -> Result<Encoded, TranscodeError> {
        let started = Instant::now();
        let dir = out_dir.join(rung.name);
        tokio::fs::create_dir(&dir).await?;
        let url = file_url(input)?;
        let mut command = Command::new(&self.ffmpeg);
        command
            .current_dir(&dir)
            .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"])
            .args([
                "-protocol_whitelist",
                "file",
                "-format_whitelist",
                CONTAINERS,
            ])
            .arg("-i")
            .arg(&url)
            .args(encode_args(source, rung));
        let finished = run(command, &self.ffmpeg).await?;
        if !finished.status.success() {
            let (name, status, detail) = (rung.name, finished.status, finished.detail(&url));
            return Err(TranscodeError::Failed(format!(
                "ffmpeg failed while encoding {name} ({status}): {detail}"
            )));
        }
        let encoded = self.describe(rung, source.probe.has_audio, &dir).await?;
        tracing::info!(
            rendition = rung.name,
            elapsed_ms = started.elapsed().as_millis(),
            "rendition encoded"
        );
        Ok(encoded)
    }

    /// Reads back the first segment of a fresh rendition for its real size and H.264 level.
    async fn describe(
        &self,
        rung: &Rung,
        has_audio: bool,
        dir: &Path,
    ) -> Result<Encoded, TranscodeError> {
        let unreadable = |detail: String| {
            TranscodeError::Failed(format!(
                "ffmpeg wrote an unreadable {}: {detail}",
                rung.name
            ))
        };
        let output = self
            .inspect(&dir.join(FIRST_SEGMENT))
            .await
            .map_err(|e| unreadable(e.reason()))?;
        let level = output
            .h264_level
            .ok_or_else(|| unreadable("no H.264 level".to_owned()))?;
        let audio_kbps = if has_audio { AUDIO_KBPS } else { 0 };
        let audio_codec = if has_audio { ",mp4a.40.2" } else { "" };
        Ok(Encoded {
            rendition: Rendition {
                name: rung.name.to_owned(),
                width: output.probe.width,
                height: output.probe.height,
                // 10% above the caps, for MPEG-TS overhead.
                bandwidth: u64::from(rung.video_kbps + audio_kbps) * 1100,
                playlist: format!("{}/{MEDIA_PLAYLIST}", rung.name),
            },
            codecs: format!("avc1.4d40{level:02x}{audio_codec}"),
        })
    }
}

/// A rendition plus what the master playlist needs beyond [`Rendition`].
struct Encoded {
    rendition: Rendition,
    codecs: String,
}

/// A probed video with the stream indices to map.
struct Source {
    probe: Probe,
    video_stream: u32,
    audio_stream: Option<u32>,
    h264_level: Option<u32>,
}

impl Source {
    fn from_json(json: &ProbeJson) -> Result<Self, TranscodeError> {
        let unreadable = |what: &str| TranscodeError::Unreadable(what.to_owned());
        let video = json
            .streams
            .iter()
            .find(|s| s.is_picture())
            .ok_or_else(|| unreadable("the file has no video track"))?;
        let audio = json
            .streams
            .iter()
            .find(|s| s.codec_type.as_deref() == Some("audio"));
        let duration = json
            .format
            .as_ref()
            .and_then(|f| seconds(f.duration.as_deref()))
            .or_else(|| seconds(video.duration.as_deref()))
            .ok_or_else(|| unreadable("the video has no duration"))?;
        Ok(Self {
            probe: Probe {
                width: video.width,
                height: video.height,
                duration_seconds: duration,
                has_audio: audio.is_some(),
            },
            video_stream: video.index,
            audio_stream: audio.map(|a| a.index),
            h264_level: video.level.and_then(|l| u32::try_from(l).ok()),
        })
    }
}

/// The subset of `ffprobe -print_format json -show_streams -show_format` we read.
#[derive(Deserialize)]
struct ProbeJson {
    #[serde(default)]
    streams: Vec<StreamJson>,
    format: Option<FormatJson>,
}

#[derive(Deserialize)]
struct StreamJson {
    index: u32,
    codec_type: Option<String>,
    #[serde(default)]
    width: u32,
    #[serde(default)]
    height: u32,
    duration: Option<String>,
    level: Option<i64>,
    #[serde(default)]
    disposition: DispositionJson,
}

impl StreamJson {
    /// A real picture stream, not cover art.
    fn is_picture(&self) -> bool {
        self.codec_type.as_deref() == Some("video")
            && self.width > 0
            && self.height > 0
            && self.disposition.attached_pic == 0
    }
}

#[derive(Deserialize, Default)]
struct DispositionJson {
    #[serde(default)]
    attached_pic: u8,
}

#[derive(Deserialize)]
struct FormatJson {
    duration: Option<String>,
}

/// A positive, finite number of seconds from ffprobe's text.
fn seconds(text: Option<&str>) -> Option<f64> {
    text?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0)
}

/// ffmpeg output options for one rung; every token is free of whitespace.
fn encode_args(source: &Source, rung: &Rung) -> Vec<String> {
    let (height, kbps) = (rung.height, rung.video_kbps);
    let mut args = format!(
        "-map 0:{video} -map_metadata -1 -vf scale=-2:{height} \
         -c:v libx264 -preset veryfast -profile:v main -pix_fmt yuv420p \
         -crf {CRF} -maxrate {kbps}k -bufsize {bufsize}k \
         -force_key_frames expr:gte(t,n_forced*{SEGMENT_SECONDS}) -sc_threshold 0",
        video = source.video_stream,
        bufsize = kbps * 2,
    );
    if let Some(audio) = source.audio_stream {
        args.push_str(&format!(
            " -map 0:{audio} -c:a aac -b:a {AUDIO_KBPS}k -ac 2"
        ));
    }
    args.push_str(&format!(
        " -f hls -hls_time {SEGMENT_SECONDS} -hls_playlist_type vod -hls_segment_filename {SEGMENT_PATTERN} {MEDIA_PLAYLIST}"
    ));
    args.split_whitespace().map(str::to_owned).collect()
}

fn master_playlist(encoded: &[Encoded]) -> String {
    let mut text = String::from("#EXTM3U\n#EXT-X-VERSION:3\n");
    for Encoded {
        rendition: r,
        codecs,
    } in encoded
    {
        text.push_str(&format!(
            "#EXT-X-STREAM-INF:BANDWIDTH={},RESOLUTION={}x{},CODECS=\"{codecs}\"\n{}\n",
            r.bandwidth, r.width, r.height, r.playlist
        ));
    }
    text
}

/// Every file under `root`, relative, '/'-separated, sorted.
async fn list_files(root: &Path) -> Result<Vec<String>, TranscodeError> {
    let mut files = Vec::new();
    let mut pending = vec![String::new()];
    while let Some(folder) = pending.pop() {
        let mut entries = tokio::fs::read_dir(root.join(&folder)).await?;
        while let Some(entry) = entries.next_entry().await? {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = if folder.is_empty() {
                name
            } else {
                format!("{folder}/{name}")
            };
            if entry.file_type().await?.is_dir() {
                pending.push(path)
            } else {
                files.push(path)
            }
        }
    }
    files.sort();
    Ok(files)
}

/// `file:` plus the absolute path, so ffmpeg never reads the name as another protocol or an option.
fn file_url(path: &Path) -> Result<OsString, TranscodeError> {
    let mut url = OsString::from("file:");
    url.push(std::path::absolute(path)?);
    Ok(url)
}

fn executable(name: &str) -> String {
    format!("{name}{}", std::env::consts::EXE_SUFFIX)
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let file = executable(name);
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(&file))
        .find(|p| p.is_file())
}

/// A finished child process: exit status, the head of stdout, the tail of stderr.
struct Finished {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr_tail: String,
}

impl Finished {
    /// The last meaningful stderr line, with the input URL blanked out, truncated.
    fn detail(&self, url: &OsString) -> String {
        let url = url.to_string_lossy();
        let line = self
            .stderr_tail
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| !l.is_empty() && *l != "Conversion failed!");
        line.map_or_else(
            || "no error message".to_owned(),
            |l| truncate(&l.replace(url.as_ref(), "input"), DETAIL_CHARS),
        )
    }
}

/// Runs `command` to completion with stdin closed and bounded output capture;
/// the child is killed if this future is dropped.
async fn run(mut command: Command, program: &Path) -> Result<Finished, TranscodeError> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().map_err(|e| spawn_error(program, e))?;
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let (stdout, stderr, status) = tokio::join!(
        drain(stdout, keep_head),
        drain(stderr, keep_tail),
        child.wait()
    );
    Ok(Finished {
        status: status?,
        stdout: stdout?,
        stderr_tail: String::from_utf8_lossy(&stderr?).into_owned(),
    })
}

fn spawn_error(program: &Path, error: std::io::Error) -> TranscodeError {
    match error.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
            TranscodeError::Missing(format!(
                "{} could not be started ({error})",
                program.display()
            ))
        }
        _ => TranscodeError::Io(error),
    }
}

/// Reads `reader` to the end (so the child never blocks on a full pipe), keeping what `keep` retains.
async fn drain<R: AsyncRead + Unpin>(
    reader: Option<R>,
    keep: fn(&mut Vec<u8>, &[u8]),
) -> std::io::Result<Vec<u8>> {
    let mut kept = Vec::new();
    let Some(mut reader) = reader else {
        return Ok(kept);
    };
    let mut chunk = [0_u8; 8192];
    loop {
        let n = reader.read(&mut chunk).await?;
        if n == 0 {
            return Ok(kept);
        }
        keep(&mut kept, &chunk[..n]);
    }
}

fn keep_head(kept: &mut Vec<u8>, chunk: &[u8]) {
    let room = STDOUT_HEAD_BYTES.saturating_sub(kept.len());
    kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
}

fn keep_tail(kept: &mut Vec<u8>, chunk: &[u8]) {
    kept.extend_from_slice(chunk);
    if kept.len() > STDERR_TAIL_BYTES {
        kept.drain(..kept.len() - STDERR_TAIL_BYTES);
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Rewrites an HLS playlist (master or media) so each URI is replaced by
/// `sign(uri)`: every non-comment, non-empty line, and every `URI="..."`
/// attribute inside tags (EXT-X-MAP, EXT-X-KEY, EXT-X-MEDIA,
/// EXT-X-I-FRAME-STREAM-INF, ...). A URI that is absolute (has a scheme or
/// starts with '/'), contains "..", a backslash, '?' or '#', or any char
/// outside `[A-Za-z0-9._/-]` is refused with [`TranscodeError::Unreadable`]:
/// our own ffmpeg output never has such URIs, and a tampered store must not
/// make us sign arbitrary paths. `sign` returns the replacement string.
pub fn rewrite_playlist(
    text: &str,
    mut sign: impl FnMut(&str) -> String,
) -> Result<String, TranscodeError> {
    let mut out = String::with_capacity(text.len() * 2);
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with("#EXT") {
            out.push_str(&rewrite_tag(line, &mut sign)?);
        } else if line.starts_with('#') || line.is_empty() {
            out.push_str(line);
        } else {
            out.push_str(&sign(plain_relative(line)?));
        }
        out.push('\n');
    }
    Ok(out)
}

/// Signs every `URI="..."` attribute of one tag line; other attributes are kept as they are.
fn rewrite_tag(tag: &str, sign: &mut impl FnMut(&str) -> String) -> Result<String, TranscodeError> {
    let Some((name, attributes)) = tag.split_once(':') else {
        return Ok(tag.to_owned());
    };
    let mut rewritten = Vec::new();
    for attribute in split_attributes(attributes) {
        let Some(value) = attribute.strip_prefix("URI=") else {
            rewritten.push(attribute.to_owned());
            continue;
        };
        let uri = value.strip_prefix('"').and_then(|v| v.strip_suffix('"'));
        let uri = uri.ok_or_else(|| {
            TranscodeError::Unreadable(format!("the playlist has an unquoted URI in {name}"))
        })?;
        rewritten.push(format!("URI=\"{}\"", sign(plain_relative(uri)?)));
    }
    Ok(format!("{name}:{}", rewritten.join(",")))
}

/// Splits an attribute list at the commas outside quoted strings.
fn split_attributes(list: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in list.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&list[start..]);
    parts
}

/// `uri` if it is a plain relative path: only `[A-Za-z0-9._/-]`, no leading '/', no "..".
fn plain_relative(uri: &str) -> Result<&str, TranscodeError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-');
    if uri.is_empty() || uri.starts_with('/') || uri.contains("..") || !uri.chars().all(allowed) {
        let shown = truncate(uri, 80);
        return Err(TranscodeError::Unreadable(format!(
            "the playlist refers to {shown:?}, which is not a plain relative path"
        )));
    }
    Ok(uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heights(source_height: u32) -> Vec<u32> {
        ladder(source_height).iter().map(|r| r.height).collect()
    }

    #[test]
    fn ladder_1080_source_gets_all_three_rungs() {
        let names: Vec<_> = ladder(1080).iter().map(|r| r.name).collect();
        assert_eq!(names, ["360p", "720p", "1080p"]);
        assert_eq!(heights(2160), [360, 720, 1080]);
    }

    #[test]
    fn ladder_never_upscales() {
        assert_eq!(heights(720), [360, 720]);
        assert_eq!(heights(1079), [360, 720]);
        assert_eq!(heights(480), [360]);
        assert_eq!(heights(360), [360]);
    }

    #[test]
    fn ladder_below_360_keeps_own_even_height() {
        assert_eq!(heights(240), [240]);
        assert_eq!(heights(241), [240]);
        assert_eq!(ladder(241)[0].name, "low");
        assert!(ladder(1).is_empty());
    }

    fn signed(uri: &str) -> String {
        format!("https://cdn.example/{uri}?sig=abc")
    }

    #[test]
    fn rewrites_media_playlist_segments_and_map() {
        let text = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:6\n\
                    #EXT-X-MAP:URI=\"init.mp4\",BYTERANGE=\"720@0\"\n\
                    #EXTINF:6.000000,\nseg_00000.ts\n# a comment\n\n#EXTINF:2.5,\r\nseg_00001.ts\r\n#EXT-X-ENDLIST\n";
        let out = rewrite_playlist(text, signed).unwrap();
        let expected = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:6\n\
                        #EXT-X-MAP:URI=\"https://cdn.example/init.mp4?sig=abc\",BYTERANGE=\"720@0\"\n\
                        #EXTINF:6.000000,\nhttps://cdn.example/seg_00000.ts?sig=abc\n# a comment\n\n\
                        #EXTINF:2.5,\nhttps://cdn.example/seg_00001.ts?sig=abc\n#EXT-X-ENDLIST\n";
        assert_eq!(out, expected);
    }

    #[test]
    fn rewrites_master_playlist() {
        let text = "#EXTM3U\n#EXT-X-VERSION:3\n\
                    #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"English, main\",URI=\"audio/index.m3u8\"\n\
                    #EXT-X-STREAM-INF:BANDWIDTH=1020800,RESOLUTION=640x360,CODECS=\"avc1.4d401e,mp4a.40.2\"\n360p/index.m3u8\n\
                    #EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,URI=\"360p/iframes.m3u8\"\n";
        let mut seen = Vec::new();
        let out = rewrite_playlist(text, |uri| {
            seen.push(uri.to_owned());
            format!("S({uri})")
        })
        .unwrap();
        assert_eq!(
            seen,
            ["audio/index.m3u8", "360p/index.m3u8", "360p/iframes.m3u8"]
        );
        assert!(out.contains("NAME=\"English, main\",URI=\"S(audio/index.m3u8)\"\n"));
        assert!(out.contains("CODECS=\"avc1.4d401e,mp4a.40.2\"\nS(360p/index.m3u8)\n"));
        assert!(
            out.contains(
                "#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,URI=\"S(360p/iframes.m3u8)\"\n"
            )
        );
    }

    #[test]
    fn refuses_uris_outside_the_rendition_folder() {
        for uri in [
            "../x.ts",
            "/abs.ts",
            "http://e/x.ts",
            "a.ts?x=1",
            "a.ts#f",
            "a\\b.ts",
            "a b.ts",
        ] {
            let line = rewrite_playlist(&format!("#EXTM3U\n#EXTINF:6,\n{uri}\n"), signed);
            assert!(
                matches!(line, Err(TranscodeError::Unreadable(_))),
                "line {uri:?} was accepted"
            );
            let tag = rewrite_playlist(&format!("#EXTM3U\n#EXT-X-MAP:URI=\"{uri}\"\n"), signed);
            assert!(
                matches!(tag, Err(TranscodeError::Unreadable(_))),
                "URI attribute {uri:?} was accepted"
            );
        }
        let unquoted = rewrite_playlist("#EXT-X-KEY:METHOD=AES-128,URI=key.bin\n", signed);
        assert!(matches!(unquoted, Err(TranscodeError::Unreadable(_))));
    }

    #[test]
    fn reason_is_one_line() {
        let error = TranscodeError::Failed("ffmpeg failed\n  at 720p".to_owned());
        assert_eq!(error.reason(), "ffmpeg failed at 720p");
    }

    fn ffmpeg_or_skip(test: &str) -> Option<Ffmpeg> {
        match Ffmpeg::locate() {
            Ok(ffmpeg) => Some(ffmpeg),
            Err(error) => {
                eprintln!(
                    "SKIPPED: ffmpeg not found, {test} did not run ({})",
                    error.reason()
                );
                None
            }
        }
    }

    /// Makes a test video with ffmpeg's lavfi sources.
    async fn generate(ffmpeg: &Ffmpeg, path: &Path, args: &str) {
        let status = Command::new(&ffmpeg.ffmpeg)
            .args("-nostdin -hide_banner -loglevel error -y".split(' '))
            .args(args.split_whitespace())
            .arg(path)
            .status()
            .await
            .unwrap();
        assert!(status.success(), "generating {} failed", path.display());
    }

    async fn read(dir: &Path, file: &str) -> String {
        tokio::fs::read_to_string(dir.join(file)).await.unwrap()
    }

    #[tokio::test]
    async fn transcodes_720p_with_audio_into_two_renditions() {
        let Some(ffmpeg) = ffmpeg_or_skip("transcodes_720p_with_audio_into_two_renditions") else {
            return;
        };
        let work = tempfile::tempdir().unwrap();
        let input = work.path().join("lesson.mp4");
        let source = "-f lavfi -i testsrc2=size=1280x720:rate=25 -f lavfi -i sine=frequency=440 \
                      -t 4 -c:v libx264 -preset ultrafast -c:a aac";
        generate(&ffmpeg, &input, source).await;
        let out = work.path().join("hls");
        std::fs::create_dir(&out).unwrap();

        let started = Instant::now();
        let done = ffmpeg.transcode(&input, &out).await.unwrap();
        eprintln!("transcode of 4 s 720p took {:?}", started.elapsed());

        assert!(
            (3.5..4.5).contains(&done.duration_seconds),
            "duration {}",
            done.duration_seconds
        );
        let sizes: Vec<_> = done
            .renditions
            .iter()
            .map(|r| (r.name.as_str(), r.width, r.height))
            .collect();
        assert_eq!(sizes, [("360p", 640, 360), ("720p", 1280, 720)]);
        assert_eq!(done.master, "master.m3u8");
        assert!(done.files.contains(&done.master));
        assert!(done.files.is_sorted());

        let master = read(&out, &done.master).await;
        assert!(master.starts_with("#EXTM3U\n#EXT-X-VERSION:3\n"));
        assert!(
            master
                .contains("RESOLUTION=640x360,CODECS=\"avc1.4d401e,mp4a.40.2\"\n360p/index.m3u8\n"),
            "{master}"
        );
        assert!(
            master.contains(
                "RESOLUTION=1280x720,CODECS=\"avc1.4d401f,mp4a.40.2\"\n720p/index.m3u8\n"
            ),
            "{master}"
        );
        assert!(!master.contains("1080p"));
        rewrite_playlist(&master, str::to_owned).unwrap();

        for rendition in &done.renditions {
            assert!(done.files.contains(&rendition.playlist));
            let media = read(&out, &rendition.playlist).await;
            assert!(media.trim_end().ends_with("#EXT-X-ENDLIST"), "{media}");
            let mut segments = Vec::new();
            rewrite_playlist(&media, |uri| {
                segments.push(format!("{}/{uri}", rendition.name));
                uri.to_owned()
            })
            .unwrap();
            assert!(!segments.is_empty());
            for segment in &segments {
                assert!(out.join(segment).is_file(), "{segment} missing");
                assert!(done.files.contains(segment), "{segment} not listed");
            }
        }
    }

    #[tokio::test]
    async fn video_only_320x240_gets_one_rendition_without_audio() {
        let Some(ffmpeg) = ffmpeg_or_skip("video_only_320x240_gets_one_rendition_without_audio")
        else {
            return;
        };
        let work = tempfile::tempdir().unwrap();
        let input = work.path().join("silent.mp4");
        generate(
            &ffmpeg,
            &input,
            "-f lavfi -i testsrc2=size=320x240:rate=25 -t 2 -c:v libx264 -preset ultrafast",
        )
        .await;
        let probe = ffmpeg.probe(&input).await.unwrap();
        assert_eq!(
            (probe.width, probe.height, probe.has_audio),
            (320, 240, false)
        );

        let out = work.path().join("hls");
        std::fs::create_dir(&out).unwrap();

        let done = ffmpeg.transcode(&input, &out).await.unwrap();

        assert_eq!(done.renditions.len(), 1);
        assert_eq!(
            (done.renditions[0].width, done.renditions[0].height),
            (320, 240)
        );
        assert_eq!(done.files[..2], ["low/index.m3u8", "low/seg_00000.ts"]);
        let master = read(&out, &done.master).await;
        assert!(
            master.contains("RESOLUTION=320x240,CODECS=\"avc1.4d40"),
            "{master}"
        );
        assert!(!master.contains("mp4a"), "{master}");
    }

    #[tokio::test]
    async fn garbage_is_unreadable() {
        let Some(ffmpeg) = ffmpeg_or_skip("garbage_is_unreadable") else {
            return;
        };
        let work = tempfile::tempdir().unwrap();
        let input = work.path().join("x.mp4");
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let bytes: Vec<u8> = (0..65_536)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()[0]
            })
            .collect();
        std::fs::write(&input, bytes).unwrap();
        let out = work.path().join("hls");
        std::fs::create_dir(&out).unwrap();

        let error = ffmpeg.transcode(&input, &out).await.unwrap_err();

        assert!(matches!(error, TranscodeError::Unreadable(_)), "{error:?}");
        assert!(
            !error.reason().contains(&*work.path().to_string_lossy()),
            "{}",
            error.reason()
        );
    }

    #[tokio::test]
    async fn playlist_disguised_as_video_is_not_followed() {
        let Some(ffmpeg) = ffmpeg_or_skip("playlist_disguised_as_video_is_not_followed") else {
            return;
        };
        let work = tempfile::tempdir().unwrap();
        let input = work.path().join("x.mp4");
        std::fs::write(
            &input,
            "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:10.0,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n",
        )
        .unwrap();

        let error = ffmpeg.probe(&input).await.unwrap_err();

        assert!(matches!(error, TranscodeError::Unreadable(_)), "{error:?}");
    }
}
