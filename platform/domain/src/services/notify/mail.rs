//! Mail (purchase receipts, refund notices, staff invitations): through SMTP when `LYCEUM_SMTP_URL` is set, otherwise as `.eml` files under
//! `{data_dir}/mail` (so the demo shows what would be sent). Each message's file name and
//! `Message-ID` come from its outbox row, so writing it twice leaves one message.

use std::path::PathBuf;

use lettre::message::{Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::entities::outbox::{self, OutboxKind};

/// Where mail goes.
#[derive(Clone)]
pub enum Mailer {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
    Files {
        dir: PathBuf,
        from: Mailbox,
    },
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Smtp { .. } => f.write_str("Mailer::Smtp"),
            Self::Files { dir, .. } => write!(f, "Mailer::Files({})", dir.display()),
        }
    }
}

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the outbox row cannot be turned into a message: {0}")]
    Malformed(String),
    #[error("SMTP: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("writing the message file: {0}")]
    Io(#[from] std::io::Error),
}

impl Mailer {
    /// SMTP for `smtp://…` / `smtps://…` URLs, files otherwise.
    pub fn new(
        smtp_url: Option<&SecretString>,
        from: &str,
        data_dir: &std::path::Path,
    ) -> Result<Self, MailError> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| MailError::Malformed(format!("sender address: {e}")))?;
        Ok(match smtp_url {
            Some(url) => Self::Smtp {
                transport: AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())?
                    .build(),
                from,
            },
            None => Self::Files {
                dir: data_dir.join("mail"),
                from,
            },
        })
    }

    /// Sends the message an outbox row describes.
    pub async fn deliver(
        &self,
        row: &outbox::Model,
        attachment: Option<Attachment>,
    ) -> Result<(), MailError> {
        match self {
            Self::Smtp { transport, from } => {
                transport.send(compose(from, row, attachment)?).await?;
            }
            Self::Files { dir, from } => {
                let message = compose(from, row, attachment)?;
                tokio::fs::create_dir_all(dir).await?;
                let path = dir.join(format!(
                    "{}-{}.eml",
                    row.created_at.format("%Y%m%dT%H%M%S"),
                    row.id
                ));
                tokio::fs::write(path, message.formatted()).await?;
            }
        }
        Ok(())
    }
}

/// A file sent with a message.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub filename: &'static str,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

fn compose(
    from: &Mailbox,
    row: &outbox::Model,
    attachment: Option<Attachment>,
) -> Result<Message, MailError> {
    let payload = &row.payload;
    let field = |name: &str| payload.get(name).cloned().unwrap_or(Value::Null);
    let to: Mailbox = field("to")
        .as_str()
        .unwrap_or_default()
        .parse()
        .map_err(|e| MailError::Malformed(format!("recipient: {e}")))?;
    let currency = field("currency").as_str().unwrap_or_default().to_owned();
    let amount = |name: &str| {
        let minor = field(name).as_i64().unwrap_or_default();
        lyceum_gateway_core::Currency::parse(&currency)
            .ok()
            .and_then(|c| lyceum_gateway_core::Money::new(minor, c).ok())
            .map_or_else(|| format!("{minor} {currency}"), |m| m.to_string())
    };
    let order = field("order_id").as_str().unwrap_or_default().to_owned();
    let (subject, body) = match row.kind {
        OutboxKind::PurchaseReceipt => (
            "Your purchase receipt".to_owned(),
            format!(
                "Thank you for your purchase.\n\nOrder: {order}\nTotal paid: {}\n\nYour course is waiting for you.\n",
                amount("total")
            ),
        ),
        OutboxKind::RefundNotice => (
            "Your refund".to_owned(),
            format!(
                "A refund was made on your order.\n\nOrder: {order}\nRefunded so far: {}\nOrder status: {}\n",
                amount("refunded"),
                field("status").as_str().unwrap_or_default()
            ),
        ),
        OutboxKind::StaffInvitation => (
            format!(
                "You are invited to the staff of {}",
                field("tenant").as_str().unwrap_or_default()
            ),
            format!(
                "You are invited to join the staff of {} as {}.\n\nTo accept, sign in (or register) with this address and open:\n{}\n\nThe link works until {}. If you did not expect this, ignore this message.\n",
                field("tenant").as_str().unwrap_or_default(),
                field("role").as_str().unwrap_or_default(),
                field("link").as_str().unwrap_or_default(),
                field("expires_at").as_str().unwrap_or_default(),
            ),
        ),
        OutboxKind::SeatInvitation => (
            format!(
                "A seat of {} is waiting for you",
                field("course").as_str().unwrap_or_default()
            ),
            format!(
                "{} gave you a seat of \"{}\" at {}.\n\nTo take it, register with this address:\n{}\n\nIf you did not expect this, ignore this message.\n",
                field("team").as_str().unwrap_or_default(),
                field("course").as_str().unwrap_or_default(),
                field("tenant").as_str().unwrap_or_default(),
                field("link").as_str().unwrap_or_default(),
            ),
        ),
        OutboxKind::SeatsTakenBack => {
            let lost = field("lost");
            let lost: Vec<&str> = lost
                .as_array()
                .map(|all| all.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            (
                format!(
                    "Seats of {} were taken back",
                    field("course").as_str().unwrap_or_default()
                ),
                format!(
                    "A refund or a dispute of an order of \"{}\" at {} took back seats of {}. These people lost their seat:\n\n{}\n\nOrder: {order}\n",
                    field("course").as_str().unwrap_or_default(),
                    field("tenant").as_str().unwrap_or_default(),
                    field("team").as_str().unwrap_or_default(),
                    lost.join("\n"),
                ),
            )
        }
        OutboxKind::CertificateIssued => (
            format!(
                "Your certificate: {}",
                field("course").as_str().unwrap_or_default()
            ),
            format!(
                "Congratulations on completing \"{}\".\n\nYour certificate is attached. Anyone can check it with the code {} at:\n{}\n",
                field("course").as_str().unwrap_or_default(),
                field("code").as_str().unwrap_or_default(),
                field("url").as_str().unwrap_or_default(),
            ),
        ),
    };
    let builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(subject)
        .message_id(Some(format!("<{}@lyceum>", row.id)));
    let message = match attachment {
        None => builder.header(ContentType::TEXT_PLAIN).body(body),
        Some(file) => {
            let kind = ContentType::parse(file.content_type)
                .map_err(|e| MailError::Malformed(e.to_string()))?;
            builder.multipart(
                MultiPart::mixed()
                    .singlepart(SinglePart::plain(body))
                    .singlepart(
                        lettre::message::Attachment::new(file.filename.to_owned())
                            .body(file.bytes, kind),
                    ),
            )
        }
    };
    message.map_err(|e| MailError::Malformed(e.to_string()))
}
