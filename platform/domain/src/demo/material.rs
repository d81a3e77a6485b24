//! The demo's lesson material, so a newcomer sees every kind of lesson working: Markdown
//! with code, a quiz, a PDF handout, and — where ffmpeg is installed — a short generated video
//! that the transcode worker turns into HLS renditions.

use bytes::Bytes;
use lyceum_tenants::rbac::{Authorized, action, resource};
use serde_json::json;

use crate::error::{AppError, AppResult};
use crate::ids::LessonId;
use crate::services::catalog::curriculum::{self, LessonPatch};
use crate::services::catalog::{Curriculum, LessonBody};
use crate::services::learning::quiz_rules::QuestionInput;
use crate::services::learning::quizzes::{self, QuizInput};
use crate::services::media::assets;
use crate::services::media::transcode::Ffmpeg;
use crate::services::tenancy::tenants::Tenant;
use crate::state::AppState;

const HELLO_CARGO: &str = r#"# Hello, cargo

Every Rust project starts the same way:

```sh
cargo new hello
cd hello
cargo run
```

`cargo new` writes a `Cargo.toml` and a `src/main.rs`:

```rust
fn main() {
    println!("Hello, world!");
}
```

- `cargo build` compiles, `cargo run` compiles and runs.
- `cargo test` runs the tests, `cargo fmt` formats the code.

> Tip: `cargo check` is the fastest way to hear from the compiler.
"#;

const VARIABLES: &str = r#"# Variables and types

Bindings are immutable unless you say `mut`:

```rust
let answer = 42;          // i32, inferred
let mut count: u64 = 0;   // mutable, typed
count += 1;
```

| Type   | Example     |
|--------|-------------|
| `bool` | `true`      |
| `char` | `'λ'`       |
| `f64`  | `2.5`       |
| `&str` | `"hello"`   |

Check yourself with the quiz below.
"#;

/// The lesson of `curriculum` titled `title`.
fn lesson(curriculum: &Curriculum, title: &str) -> AppResult<LessonId> {
    curriculum
        .sections
        .iter()
        .flat_map(|s| &s.lessons)
        .find(|l| l.title == title)
        .map(|l| l.id)
        .ok_or(AppError::Internal("a demo lesson is missing"))
}

async fn write(
    state: &AppState,
    editor: &Authorized<resource::Course, action::Update>,
    tenant: &Tenant,
    lesson: LessonId,
    markdown: &str,
) -> AppResult<()> {
    let patch = LessonPatch {
        body: Some(Some(LessonBody::parse("body", markdown)?)),
        ..LessonPatch::default()
    };
    curriculum::update_lesson(state, editor, tenant, lesson, patch).await?;
    Ok(())
}

async fn upload(
    state: &AppState,
    editor: &Authorized<resource::Course, action::Update>,
    tenant: &Tenant,
    lesson: LessonId,
    content_type: &str,
    bytes: Vec<u8>,
) -> AppResult<()> {
    let body = futures_util::stream::iter([Ok::<_, AppError>(Bytes::from(bytes))]);
    assets::upload(
        state,
        editor,
        tenant,
        lesson,
        Some(content_type),
        body,
        state.settings.max_upload_bytes,
    )
    .await
}

/// The free course: Markdown with code, a quiz, and a video when ffmpeg can make one.
pub(super) async fn furnish_free_course(
    state: &AppState,
    editor: &Authorized<resource::Course, action::Update>,
    tenant: &Tenant,
    curriculum: &Curriculum,
) -> AppResult<()> {
    write(
        state,
        editor,
        tenant,
        lesson(curriculum, "Hello, cargo")?,
        HELLO_CARGO,
    )
    .await?;
    let variables = lesson(curriculum, "Variables and types")?;
    write(state, editor, tenant, variables, VARIABLES).await?;
    let questions: Vec<QuestionInput> = serde_json::from_value(json!([
        {"kind": "single", "prompt": "Which keyword makes a binding mutable?", "options": [
            {"text": "mut", "correct": true},
            {"text": "var", "correct": false},
            {"text": "let", "correct": false}],
         "explanation": "`let mut x = 1;` — bindings are immutable by default."},
        {"kind": "true_false", "prompt": "`let answer = 42;` makes `answer` an i32.", "answer": true},
        {"kind": "multiple", "prompt": "Which of these are Rust primitive types?", "options": [
            {"text": "bool", "correct": true},
            {"text": "char", "correct": true},
            {"text": "string", "correct": false}]},
        {"kind": "short_text", "prompt": "Which cargo command runs the tests?",
         "answer": {"match": "exact", "values": ["cargo test"]}},
    ]))?;
    quizzes::put(
        state,
        editor,
        tenant,
        variables,
        QuizInput {
            title: "Check yourself".to_owned(),
            pass_percent: 75,
            max_attempts: Some(3),
            time_limit_seconds: Some(600),
            draw: None,
            required: true,
            questions,
        },
    )
    .await?;
    let video = lesson(curriculum, "Installing Rust")?;
    match generated_video().await {
        Ok(bytes) => upload(state, editor, tenant, video, "video/mp4", bytes).await?,
        Err(reason) => tracing::info!(%reason, "the demo's video lesson has no video"),
    }
    Ok(())
}

/// A paid course: a PDF handout for its file lesson, and the video of its free preview (so a
/// visitor can watch before buying) when ffmpeg can make one.
pub(super) async fn furnish_paid_course(
    state: &AppState,
    editor: &Authorized<resource::Course, action::Update>,
    tenant: &Tenant,
    curriculum: &Curriculum,
) -> AppResult<()> {
    let handout = lesson(curriculum, "Graceful shutdown")?;
    upload(
        state,
        editor,
        tenant,
        handout,
        "application/pdf",
        handout_pdf(),
    )
    .await?;
    let preview = lesson(curriculum, "Why async?")?;
    match generated_video().await {
        Ok(bytes) => upload(state, editor, tenant, preview, "video/mp4", bytes).await?,
        Err(reason) => tracing::info!(%reason, "the demo's preview lesson has no video"),
    }
    Ok(())
}

/// Eight seconds of ffmpeg's test picture with a tone, as MP4.
async fn generated_video() -> Result<Vec<u8>, String> {
    let ffmpeg = Ffmpeg::locate().map_err(|e| e.reason())?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let out = dir.path().join("demo.mp4");
    let status = tokio::process::Command::new(ffmpeg.ffmpeg_path())
        .args([
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1280x720:rate=25",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440",
            "-t",
            "8",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
        ])
        .arg(&out)
        .kill_on_drop(true)
        .status()
        .await
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("ffmpeg could not make the demo video ({status})"));
    }
    tokio::fs::read(&out).await.map_err(|e| e.to_string())
}

/// A one-page PDF handout in Helvetica.
fn handout_pdf() -> Vec<u8> {
    use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};
    let (catalog, tree, page, font, content) = (
        Ref::new(1),
        Ref::new(2),
        Ref::new(3),
        Ref::new(4),
        Ref::new(5),
    );
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page]).count(1);
    let mut p = pdf.page(page);
    p.media_box(Rect::new(0.0, 0.0, 595.0, 842.0))
        .parent(tree)
        .contents(content);
    p.resources().fonts().pair(Name(b"F1"), font);
    p.finish();
    pdf.type1_font(font).base_font(Name(b"Helvetica"));
    let lines: [(f32, &[u8]); 8] = [
        (20.0, b"Graceful shutdown: a checklist"),
        (12.0, b""),
        (12.0, b"1. Stop accepting new connections."),
        (12.0, b"2. Let requests in flight finish, with a deadline."),
        (12.0, b"3. Cancel background tasks through a shared token."),
        (12.0, b"4. Flush what is buffered: logs, metrics, queues."),
        (12.0, b"5. Close database pools last."),
        (10.0, b"Async Rust in Practice - Demo Academy"),
    ];
    let mut text = Content::new();
    let mut y = 780.0;
    for (size, line) in lines {
        text.begin_text()
            .set_font(Name(b"F1"), size)
            .next_line(72.0, y)
            .show(Str(line))
            .end_text();
        y -= size * 2.0;
    }
    pdf.stream(content, &text.finish());
    pdf.finish()
}
