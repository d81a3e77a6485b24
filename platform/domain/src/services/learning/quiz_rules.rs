//! Quiz rules: checking an instructor's question before it is stored, drawing an attempt's
//! layout from a seed, the student's view of that layout (which never carries an answer), and
//! grading a submission with per-question feedback.
//!
//! Pure: no I/O, no storage, no clock. The caller loads the pool, keeps the seed (or better,
//! the serialized [`Layout`]) with the attempt, and stores the [`Graded`] result.
//!
//! A question that a layout names but the pool no longer holds (deleted after the attempt
//! started) is left out of the student's view and of grading: it counts neither as right nor
//! as wrong, and has no result.

use std::collections::{HashMap, HashSet};

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

const PROMPT_MAX: usize = 2000;
const EXPLANATION_MAX: usize = 2000;
const OPTIONS_MIN: usize = 2;
const OPTIONS_MAX: usize = 10;
const OPTION_TEXT_MAX: usize = 500;
const VALUES_MAX: usize = 20;
const VALUE_MAX: usize = 200;
const PATTERN_MAX: usize = 200;
const REGEX_SIZE_LIMIT: usize = 1024 * 1024;

/// A question as authored and stored; JSON internally tagged by `kind`
/// (`single`, `multiple`, `true_false`, `short_text`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum QuestionSpec {
    /// Exactly one option is correct.
    Single {
        prompt: String,
        options: Vec<ChoiceOption>,
        #[serde(default)]
        explanation: Option<String>,
    },
    /// One or more options are correct; the student must choose exactly those.
    Multiple {
        prompt: String,
        options: Vec<ChoiceOption>,
        #[serde(default)]
        explanation: Option<String>,
    },
    /// A statement that is true or false.
    TrueFalse {
        prompt: String,
        answer: bool,
        #[serde(default)]
        explanation: Option<String>,
    },
    /// A typed answer, checked against exact values or a pattern.
    ShortText {
        prompt: String,
        answer: TextAnswer,
        #[serde(default)]
        explanation: Option<String>,
    },
}

/// One option of a choice question; its id is assigned by [`author`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChoiceOption {
    pub id: Uuid,
    pub text: String,
    pub correct: bool,
}

/// How a short-text answer is accepted; JSON internally tagged by `match` (`exact`, `pattern`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "match", rename_all = "snake_case")]
pub enum TextAnswer {
    /// Any of these values, compared after trimming and collapsing whitespace runs to one
    /// space, and after Unicode lowercasing unless `case_sensitive`.
    Exact {
        values: Vec<String>,
        #[serde(default)]
        case_sensitive: bool,
    },
    /// A regular expression that must match the whole trimmed answer; `(?i)` inside it makes
    /// it case-insensitive.
    Pattern { pattern: String },
}

/// A question as the instructor submits it: [`QuestionSpec`]'s shape, with options that have
/// no id yet. Untrusted until [`author`] accepts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum QuestionInput {
    /// See [`QuestionSpec::Single`].
    Single {
        prompt: String,
        options: Vec<OptionInput>,
        #[serde(default)]
        explanation: Option<String>,
    },
    /// See [`QuestionSpec::Multiple`].
    Multiple {
        prompt: String,
        options: Vec<OptionInput>,
        #[serde(default)]
        explanation: Option<String>,
    },
    /// See [`QuestionSpec::TrueFalse`].
    TrueFalse {
        prompt: String,
        answer: bool,
        #[serde(default)]
        explanation: Option<String>,
    },
    /// See [`QuestionSpec::ShortText`].
    ShortText {
        prompt: String,
        answer: TextAnswer,
        #[serde(default)]
        explanation: Option<String>,
    },
}

/// An option as the instructor submits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionInput {
    pub text: String,
    pub correct: bool,
}

/// Why an authored question was refused: the offending field (such as `options[2].text` or
/// `answer.pattern`) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct RuleError {
    pub field: String,
    pub message: String,
}

impl RuleError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The questions of one attempt, in the order shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    pub items: Vec<LaidOut>,
}

/// One question of a layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaidOut {
    pub question: Uuid,
    /// Option ids in the order shown; empty for true/false and short-text questions.
    pub options: Vec<Uuid>,
}

/// A question as the student sees it: no correctness, answers or explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicQuestion {
    pub id: Uuid,
    /// `single`, `multiple`, `true_false` or `short_text`.
    pub kind: &'static str,
    pub prompt: String,
    /// In the layout's order; empty for true/false and short-text questions.
    pub options: Vec<PublicOption>,
}

/// An option as the student sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicOption {
    pub id: Uuid,
    pub text: String,
}

/// A student's answer to one question; JSON internally tagged by `kind`, like [`QuestionSpec`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Response {
    Single { option: Uuid },
    Multiple { options: Vec<Uuid> },
    TrueFalse { value: bool },
    ShortText { text: String },
}

/// A graded submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Graded {
    /// Percent of questions right, rounded down; 100 when there are no questions.
    pub score: u8,
    pub correct: u32,
    pub total: u32,
    /// One per graded question, in the layout's order.
    pub results: Vec<QuestionResult>,
}

/// Feedback on one question after submission, when revealing the answer is fine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionResult {
    pub question: Uuid,
    pub correct: bool,
    /// The correct options' ids, for choice questions; empty otherwise.
    pub correct_options: Vec<Uuid>,
    /// The right answer, for true/false questions.
    pub correct_value: Option<bool>,
    /// The accepted values of an exact short-text answer; empty for a pattern.
    pub accepted: Vec<String>,
    pub explanation: Option<String>,
}

impl QuestionSpec {
    fn kind(&self) -> &'static str {
        match self {
            Self::Single { .. } => "single",
            Self::Multiple { .. } => "multiple",
            Self::TrueFalse { .. } => "true_false",
            Self::ShortText { .. } => "short_text",
        }
    }

    fn prompt(&self) -> &str {
        match self {
            Self::Single { prompt, .. }
            | Self::Multiple { prompt, .. }
            | Self::TrueFalse { prompt, .. }
            | Self::ShortText { prompt, .. } => prompt,
        }
    }

    fn explanation(&self) -> Option<&String> {
        match self {
            Self::Single { explanation, .. }
            | Self::Multiple { explanation, .. }
            | Self::TrueFalse { explanation, .. }
            | Self::ShortText { explanation, .. } => explanation.as_ref(),
        }
    }

    /// The options of a choice question; empty for the other kinds.
    fn options(&self) -> &[ChoiceOption] {
        match self {
            Self::Single { options, .. } | Self::Multiple { options, .. } => options,
            Self::TrueFalse { .. } | Self::ShortText { .. } => &[],
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Authoring

/// Validates an authored question and assigns fresh option ids; errors name the field.
///
/// Prompt, option texts, exact values and explanation are stored trimmed (an explanation that is
/// blank becomes `None`); a pattern is stored as written.
pub fn author(input: QuestionInput) -> Result<QuestionSpec, RuleError> {
    Ok(match input {
        QuestionInput::Single {
            prompt,
            options,
            explanation,
        } => QuestionSpec::Single {
            prompt: prompt_text(&prompt)?,
            options: choice_options(options, Correct::ExactlyOne)?,
            explanation: explanation_text(explanation.as_deref())?,
        },
        QuestionInput::Multiple {
            prompt,
            options,
            explanation,
        } => QuestionSpec::Multiple {
            prompt: prompt_text(&prompt)?,
            options: choice_options(options, Correct::AtLeastOne)?,
            explanation: explanation_text(explanation.as_deref())?,
        },
        QuestionInput::TrueFalse {
            prompt,
            answer,
            explanation,
        } => QuestionSpec::TrueFalse {
            prompt: prompt_text(&prompt)?,
            answer,
            explanation: explanation_text(explanation.as_deref())?,
        },
        QuestionInput::ShortText {
            prompt,
            answer,
            explanation,
        } => QuestionSpec::ShortText {
            prompt: prompt_text(&prompt)?,
            answer: text_answer(answer)?,
            explanation: explanation_text(explanation.as_deref())?,
        },
    })
}

/// How many options of a choice question must be correct.
#[derive(Clone, Copy)]
enum Correct {
    ExactlyOne,
    AtLeastOne,
}

/// The trimmed text, if it is not empty and has at most `max` characters.
fn bounded_text(field: &str, value: &str, max: usize) -> Result<String, RuleError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(RuleError::new(field, "must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(RuleError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

fn prompt_text(prompt: &str) -> Result<String, RuleError> {
    bounded_text("prompt", prompt, PROMPT_MAX)
}

fn explanation_text(explanation: Option<&str>) -> Result<Option<String>, RuleError> {
    match explanation {
        Some(text) if !text.trim().is_empty() => {
            bounded_text("explanation", text, EXPLANATION_MAX).map(Some)
        }
        _ => Ok(None),
    }
}

fn choice_options(input: Vec<OptionInput>, rule: Correct) -> Result<Vec<ChoiceOption>, RuleError> {
    if !(OPTIONS_MIN..=OPTIONS_MAX).contains(&input.len()) {
        return Err(RuleError::new(
            "options",
            format!("must have {OPTIONS_MIN} to {OPTIONS_MAX} options"),
        ));
    }
    let mut seen = HashSet::new();
    let mut options = Vec::with_capacity(input.len());
    for (index, option) in input.into_iter().enumerate() {
        let field = format!("options[{index}].text");
        let text = bounded_text(&field, &option.text, OPTION_TEXT_MAX)?;
        if !seen.insert(text.clone()) {
            return Err(RuleError::new(field, "repeats another option's text"));
        }
        options.push(ChoiceOption {
            id: Uuid::new_v4(),
            text,
            correct: option.correct,
        });
    }
    check_correct_count(&options, rule)?;
    Ok(options)
}

fn check_correct_count(options: &[ChoiceOption], rule: Correct) -> Result<(), RuleError> {
    let correct = options.iter().filter(|option| option.correct).count();
    match rule {
        Correct::ExactlyOne if correct != 1 => Err(RuleError::new(
            "options",
            "exactly one option must be correct",
        )),
        Correct::AtLeastOne if correct == 0 => Err(RuleError::new(
            "options",
            "at least one option must be correct",
        )),
        Correct::ExactlyOne | Correct::AtLeastOne => Ok(()),
    }
}

fn text_answer(answer: TextAnswer) -> Result<TextAnswer, RuleError> {
    match answer {
        TextAnswer::Exact {
            values,
            case_sensitive,
        } => Ok(TextAnswer::Exact {
            values: exact_values(&values)?,
            case_sensitive,
        }),
        TextAnswer::Pattern { pattern } => {
            check_pattern(&pattern)?;
            Ok(TextAnswer::Pattern { pattern })
        }
    }
}

fn exact_values(values: &[String]) -> Result<Vec<String>, RuleError> {
    if values.is_empty() || values.len() > VALUES_MAX {
        return Err(RuleError::new(
            "answer.values",
            format!("must have 1 to {VALUES_MAX} values"),
        ));
    }
    values
        .iter()
        .enumerate()
        .map(|(index, value)| bounded_text(&format!("answer.values[{index}]"), value, VALUE_MAX))
        .collect()
}

fn check_pattern(pattern: &str) -> Result<(), RuleError> {
    const FIELD: &str = "answer.pattern";
    if pattern.trim().is_empty() {
        return Err(RuleError::new(FIELD, "must not be empty"));
    }
    if pattern.chars().count() > PATTERN_MAX {
        return Err(RuleError::new(
            FIELD,
            format!("must be at most {PATTERN_MAX} characters"),
        ));
    }
    match compile_pattern(pattern) {
        Ok(_) => Ok(()),
        Err(regex::Error::CompiledTooBig(_)) => Err(RuleError::new(
            FIELD,
            "is too complex (Unicode classes such as \\w are large: try [a-z0-9_] or (?-u:\\w))",
        )),
        Err(error) => Err(RuleError::new(
            FIELD,
            format!("is not a valid pattern: {error}"),
        )),
    }
}

/// The pattern anchored to the whole text. The pattern must also compile on its own, so that
/// it cannot close the anchoring group early (as `a)|(?:b` would) and match only part of the
/// text.
fn compile_pattern(pattern: &str) -> Result<Regex, regex::Error> {
    build_regex(pattern)?;
    build_regex(&format!(r"\A(?:{pattern})\z"))
}

fn build_regex(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
}

// ---------------------------------------------------------------------------------------------
// Drawing and showing an attempt

/// The questions of one attempt: `draw` of the pool (all when `None` or at least the pool's
/// size), in random order, each choice question's options in random order, all from `seed`,
/// so the same seed and pool give the same layout.
///
/// The pool's order does not matter (questions are sorted by id first); a question id that
/// appears twice in the pool is drawn once, with its first entry.
pub fn draw(pool: &[(Uuid, QuestionSpec)], draw: Option<u32>, seed: u64) -> Layout {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut questions = unique_by_id(pool);
    questions.shuffle(&mut rng);
    if let Some(count) = draw {
        questions.truncate(usize::try_from(count).unwrap_or(usize::MAX));
    }
    let items = questions
        .into_iter()
        .map(|(id, spec)| lay_out(*id, spec, &mut rng))
        .collect();
    Layout { items }
}

/// The pool's questions sorted by id, each id once (its first entry).
fn unique_by_id(pool: &[(Uuid, QuestionSpec)]) -> Vec<&(Uuid, QuestionSpec)> {
    let mut questions: Vec<_> = pool.iter().collect();
    questions.sort_by_key(|entry| entry.0);
    questions.dedup_by_key(|entry| entry.0);
    questions
}

fn lay_out(question: Uuid, spec: &QuestionSpec, rng: &mut StdRng) -> LaidOut {
    let mut options: Vec<Uuid> = spec.options().iter().map(|option| option.id).collect();
    options.shuffle(rng);
    LaidOut { question, options }
}

/// What a student sees: prompts and option texts in the layout's order, never `correct`,
/// `answer`, `values`, `pattern` or `explanation`.
///
/// Questions no longer in the pool, and option ids no longer in their question, are left out.
pub fn public_view(pool: &[(Uuid, QuestionSpec)], layout: &Layout) -> Vec<PublicQuestion> {
    laid_out_questions(pool, layout)
        .map(|(item, spec)| PublicQuestion {
            id: item.question,
            kind: spec.kind(),
            prompt: spec.prompt().to_owned(),
            options: public_options(spec.options(), &item.options),
        })
        .collect()
}

fn public_options(options: &[ChoiceOption], order: &[Uuid]) -> Vec<PublicOption> {
    order
        .iter()
        .filter_map(|id| options.iter().find(|option| option.id == *id))
        .map(|option| PublicOption {
            id: option.id,
            text: option.text.clone(),
        })
        .collect()
}

/// The layout's items with their questions, in order: each question once, and only those
/// still in the pool.
fn laid_out_questions<'a>(
    pool: &'a [(Uuid, QuestionSpec)],
    layout: &'a Layout,
) -> impl Iterator<Item = (&'a LaidOut, &'a QuestionSpec)> {
    let mut questions: HashMap<Uuid, &QuestionSpec> = HashMap::with_capacity(pool.len());
    for (id, spec) in pool {
        questions.entry(*id).or_insert(spec);
    }
    let mut seen = HashSet::with_capacity(layout.items.len());
    layout.items.iter().filter_map(move |item| {
        let spec = questions.get(&item.question).copied()?;
        seen.insert(item.question).then_some((item, spec))
    })
}

// ---------------------------------------------------------------------------------------------
// Grading

/// Grades a submission against the layout.
///
/// Each laid-out question gets a result; an unanswered question, an answer of another kind and
/// an option id that is not the question's are wrong; answers to questions outside the layout
/// are ignored. Multiple choice is right only when the chosen set equals the correct set
/// (repeated ids ignored). Short text is trimmed: exact values compare with whitespace runs
/// collapsed to one space, and Unicode-lowercased unless case-sensitive; a pattern must match
/// the whole trimmed text; a blank answer is wrong. Questions no longer in the pool are
/// skipped, from the results and the total alike.
pub fn grade(
    pool: &[(Uuid, QuestionSpec)],
    layout: &Layout,
    responses: &HashMap<Uuid, Response>,
) -> Graded {
    let results: Vec<QuestionResult> = laid_out_questions(pool, layout)
        .map(|(item, spec)| {
            let right = responses
                .get(&item.question)
                .is_some_and(|answer| is_right(spec, answer));
            feedback(item.question, spec, right)
        })
        .collect();
    let total = saturating_u32(results.len());
    let correct = saturating_u32(results.iter().filter(|result| result.correct).count());
    Graded {
        score: score(correct, total),
        correct,
        total,
        results,
    }
}

fn saturating_u32(count: usize) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}

/// Percent right, rounded down; 100 for no questions.
fn score(correct: u32, total: u32) -> u8 {
    if total == 0 {
        return 100;
    }
    let percent = u64::from(correct.min(total)) * 100 / u64::from(total);
    u8::try_from(percent).unwrap_or(100)
}

fn is_right(spec: &QuestionSpec, response: &Response) -> bool {
    match (spec, response) {
        (QuestionSpec::Single { options, .. }, Response::Single { option }) => options
            .iter()
            .any(|candidate| candidate.correct && candidate.id == *option),
        (QuestionSpec::Multiple { options, .. }, Response::Multiple { options: chosen }) => {
            let chosen: HashSet<Uuid> = chosen.iter().copied().collect();
            chosen
                == options
                    .iter()
                    .filter(|option| option.correct)
                    .map(|option| option.id)
                    .collect()
        }
        (QuestionSpec::TrueFalse { answer, .. }, Response::TrueFalse { value }) => answer == value,
        (QuestionSpec::ShortText { answer, .. }, Response::ShortText { text }) => {
            text_matches(answer, text)
        }
        _ => false,
    }
}

fn text_matches(answer: &TextAnswer, text: &str) -> bool {
    let text = text.trim();
    if text.is_empty() {
        return false;
    }
    match answer {
        TextAnswer::Exact {
            values,
            case_sensitive,
        } => {
            let given = normalize(text, *case_sensitive);
            values
                .iter()
                .any(|value| normalize(value, *case_sensitive) == given)
        }
        // A stored pattern that no longer compiles accepts nothing.
        TextAnswer::Pattern { pattern } => {
            compile_pattern(pattern).is_ok_and(|regex| regex.is_match(text))
        }
    }
}

/// Trimmed, whitespace runs collapsed to one space, and lowercased unless case-sensitive.
fn normalize(text: &str, case_sensitive: bool) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if case_sensitive {
        collapsed
    } else {
        collapsed.to_lowercase()
    }
}

fn feedback(question: Uuid, spec: &QuestionSpec, correct: bool) -> QuestionResult {
    let (correct_value, accepted) = match spec {
        QuestionSpec::TrueFalse { answer, .. } => (Some(*answer), Vec::new()),
        QuestionSpec::ShortText {
            answer: TextAnswer::Exact { values, .. },
            ..
        } => (None, values.clone()),
        QuestionSpec::Single { .. }
        | QuestionSpec::Multiple { .. }
        | QuestionSpec::ShortText {
            answer: TextAnswer::Pattern { .. },
            ..
        } => (None, Vec::new()),
    };
    QuestionResult {
        question,
        correct,
        correct_options: spec
            .options()
            .iter()
            .filter(|option| option.correct)
            .map(|option| option.id)
            .collect(),
        correct_value,
        accepted,
        explanation: spec.explanation().cloned(),
    }
}

// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;
    use serde_json::Value;

    // -- fixtures ------------------------------------------------------------------------------

    fn opt(text: &str, correct: bool) -> OptionInput {
        OptionInput {
            text: text.to_owned(),
            correct,
        }
    }

    fn single_input(options: Vec<OptionInput>) -> QuestionInput {
        QuestionInput::Single {
            prompt: "Pick one".to_owned(),
            options,
            explanation: None,
        }
    }

    fn multiple_input(options: Vec<OptionInput>) -> QuestionInput {
        QuestionInput::Multiple {
            prompt: "Pick some".to_owned(),
            options,
            explanation: None,
        }
    }

    fn text_input(answer: TextAnswer) -> QuestionInput {
        QuestionInput::ShortText {
            prompt: "Type it".to_owned(),
            answer,
            explanation: None,
        }
    }

    fn exact(values: &[&str], case_sensitive: bool) -> TextAnswer {
        TextAnswer::Exact {
            values: values.iter().map(|v| (*v).to_owned()).collect(),
            case_sensitive,
        }
    }

    fn pattern(pattern: &str) -> TextAnswer {
        TextAnswer::Pattern {
            pattern: pattern.to_owned(),
        }
    }

    fn abc(correct: [bool; 3]) -> Vec<OptionInput> {
        vec![
            opt("A", correct[0]),
            opt("B", correct[1]),
            opt("C", correct[2]),
        ]
    }

    fn question(input: QuestionInput) -> (Uuid, QuestionSpec) {
        (Uuid::new_v4(), author(input).unwrap())
    }

    /// The id of the option with this text.
    fn option(spec: &QuestionSpec, text: &str) -> Uuid {
        spec.options()
            .iter()
            .find(|option| option.text == text)
            .unwrap()
            .id
    }

    /// Grades answers (by question index) to the whole pool, laid out in full.
    fn grade_answers(pool: &[(Uuid, QuestionSpec)], answers: Vec<(usize, Response)>) -> Graded {
        let layout = draw(pool, None, 1);
        let responses = answers
            .into_iter()
            .map(|(index, answer)| (pool[index].0, answer))
            .collect();
        grade(pool, &layout, &responses)
    }

    fn grade_one(input: QuestionInput, answer: Response) -> bool {
        let pool = vec![question(input)];
        grade_answers(&pool, vec![(0, answer)]).results[0].correct
    }

    fn text_is_right(answer: TextAnswer, text: &str) -> bool {
        grade_one(
            text_input(answer),
            Response::ShortText {
                text: text.to_owned(),
            },
        )
    }

    fn true_false(answer: bool) -> QuestionInput {
        QuestionInput::TrueFalse {
            prompt: "Is it?".to_owned(),
            answer,
            explanation: None,
        }
    }

    fn numbered_pool(size: usize) -> Vec<(Uuid, QuestionSpec)> {
        (0..size)
            .map(|n| {
                let options = (0..4)
                    .map(|o| opt(&format!("q{n} option {o}"), o == 0))
                    .collect();
                question(single_input(options))
            })
            .collect()
    }

    // -- authoring -----------------------------------------------------------------------------

    #[test]
    fn author_refuses_each_broken_rule_naming_the_field() {
        let long = |n: usize| "x".repeat(n);
        let eleven = (0..11).map(|n| opt(&n.to_string(), n == 0)).collect();
        let twenty_one: Vec<String> = (0..21).map(|n| n.to_string()).collect();
        let cases: Vec<(&str, QuestionInput, &str)> = vec![
            ("blank prompt", true_false_with_prompt("   "), "prompt"),
            ("long prompt", true_false_with_prompt(&long(2001)), "prompt"),
            (
                "long explanation",
                QuestionInput::TrueFalse {
                    prompt: "Is it?".to_owned(),
                    answer: true,
                    explanation: Some(long(2001)),
                },
                "explanation",
            ),
            ("one option", single_input(vec![opt("A", true)]), "options"),
            ("eleven options", single_input(eleven), "options"),
            (
                "blank option",
                single_input(vec![opt("A", true), opt(" ", false)]),
                "options[1].text",
            ),
            (
                "long option",
                single_input(vec![opt(&long(501), true), opt("B", false)]),
                "options[0].text",
            ),
            (
                "repeated option",
                single_input(vec![opt("A", true), opt(" A ", false)]),
                "options[1].text",
            ),
            (
                "single with none correct",
                single_input(abc([false, false, false])),
                "options",
            ),
            (
                "single with two correct",
                single_input(abc([true, true, false])),
                "options",
            ),
            (
                "multiple with none correct",
                multiple_input(abc([false, false, false])),
                "options",
            ),
            (
                "no exact values",
                text_input(exact(&[], false)),
                "answer.values",
            ),
            (
                "too many exact values",
                text_input(TextAnswer::Exact {
                    values: twenty_one,
                    case_sensitive: false,
                }),
                "answer.values",
            ),
            (
                "blank exact value",
                text_input(exact(&["  "], false)),
                "answer.values[0]",
            ),
            (
                "long exact value",
                text_input(exact(&["ok", &long(201)], false)),
                "answer.values[1]",
            ),
            ("blank pattern", text_input(pattern(" ")), "answer.pattern"),
            (
                "long pattern",
                text_input(pattern(&long(201))),
                "answer.pattern",
            ),
            (
                "invalid pattern",
                text_input(pattern("(")),
                "answer.pattern",
            ),
            (
                "pattern escaping its anchors",
                text_input(pattern("a)|(?:b")),
                "answer.pattern",
            ),
            (
                "too complex pattern",
                text_input(pattern(r"\w{1,200}")),
                "answer.pattern",
            ),
        ];
        for (name, input, field) in cases {
            let error = author(input).expect_err(name);
            assert_eq!(error.field, field, "{name}: {error}");
        }
    }

    fn true_false_with_prompt(prompt: &str) -> QuestionInput {
        QuestionInput::TrueFalse {
            prompt: prompt.to_owned(),
            answer: true,
            explanation: None,
        }
    }

    #[test]
    fn author_accepts_limits_and_trims() {
        let spec = author(QuestionInput::Multiple {
            prompt: format!("  {}  ", "p".repeat(2000)),
            options: (0..10)
                .map(|n| opt(&format!(" {n} "), n % 2 == 0))
                .collect(),
            explanation: Some("   ".to_owned()),
        })
        .unwrap();
        assert_eq!(spec.prompt(), "p".repeat(2000));
        assert_eq!(spec.options()[3].text, "3");
        assert_eq!(spec.explanation(), None);
        assert!(author(text_input(pattern(r"(?i)colou?r\s+\d{1,3}"))).is_ok());
    }

    #[test]
    fn author_assigns_distinct_ids() {
        let spec = author(multiple_input(
            (0..10).map(|n| opt(&n.to_string(), true)).collect(),
        ))
        .unwrap();
        let ids: HashSet<Uuid> = spec.options().iter().map(|option| option.id).collect();
        assert_eq!(ids.len(), 10);
        assert!(!ids.contains(&Uuid::nil()));
    }

    #[test]
    fn spec_json_is_tagged_by_kind_and_match() {
        let spec = author(text_input(exact(&["Paris"], false))).unwrap();
        let json = serde_json::to_value(&spec).unwrap();
        assert_eq!(json["kind"], "short_text");
        assert_eq!(json["answer"]["match"], "exact");
        assert_eq!(serde_json::from_value::<QuestionSpec>(json).unwrap(), spec);
        let input: QuestionInput =
            serde_json::from_str(r#"{"kind":"true_false","prompt":"Sky is blue","answer":true}"#)
                .unwrap();
        assert_eq!(input, true_false_with_prompt("Sky is blue"));
    }

    // -- drawing -------------------------------------------------------------------------------

    #[test]
    fn draw_is_deterministic_for_a_seed_whatever_the_pool_order() {
        let pool = numbered_pool(10);
        let mut reversed = pool.clone();
        reversed.reverse();
        assert_eq!(draw(&pool, Some(5), 42), draw(&pool, Some(5), 42));
        assert_eq!(draw(&pool, Some(5), 42), draw(&reversed, Some(5), 42));
    }

    #[test]
    fn draw_differs_across_seeds() {
        let pool = numbered_pool(10);
        let first = draw(&pool, None, 0);
        assert!((1..10).any(|seed| draw(&pool, None, seed) != first));
    }

    #[test]
    fn draw_takes_the_right_count_without_duplicates() {
        let pool = numbered_pool(10);
        let pool_ids: HashSet<Uuid> = pool.iter().map(|(id, _)| *id).collect();
        for (wanted, expected) in [
            (None, 10),
            (Some(0), 0),
            (Some(3), 3),
            (Some(10), 10),
            (Some(50), 10),
        ] {
            let layout = draw(&pool, wanted, 9);
            let ids: HashSet<Uuid> = layout.items.iter().map(|item| item.question).collect();
            assert_eq!(layout.items.len(), expected, "{wanted:?}");
            assert_eq!(ids.len(), expected, "{wanted:?}");
            assert!(ids.is_subset(&pool_ids));
        }
    }

    #[test]
    fn draw_shuffles_options() {
        let pool = vec![question(single_input(
            (0..10).map(|n| opt(&n.to_string(), n == 0)).collect(),
        ))];
        let authored: Vec<Uuid> = pool[0].1.options().iter().map(|option| option.id).collect();
        let mut sorted_authored = authored.clone();
        sorted_authored.sort();
        let mut shuffled_once = false;
        for seed in 0..10 {
            let mut shown = draw(&pool, None, seed).items.remove(0).options;
            shuffled_once |= shown != authored;
            shown.sort();
            assert_eq!(shown, sorted_authored);
        }
        assert!(shuffled_once);
        assert!(
            draw(&[question(true_false(true))], None, 0).items[0]
                .options
                .is_empty()
        );
    }

    // -- the student's view --------------------------------------------------------------------

    fn collect_keys(value: &Value, keys: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    keys.push(key.clone());
                    collect_keys(inner, keys);
                }
            }
            Value::Array(items) => items.iter().for_each(|inner| collect_keys(inner, keys)),
            _ => {}
        }
    }

    #[test]
    fn public_view_reveals_no_answer() {
        let explained = Some("zebra-explanation-marker".to_owned());
        let pool = vec![
            question(QuestionInput::Single {
                prompt: "Single?".to_owned(),
                options: abc([true, false, false]),
                explanation: explained.clone(),
            }),
            question(QuestionInput::Multiple {
                prompt: "Multiple?".to_owned(),
                options: abc([true, true, false]),
                explanation: explained.clone(),
            }),
            question(QuestionInput::TrueFalse {
                prompt: "True?".to_owned(),
                answer: true,
                explanation: explained.clone(),
            }),
            question(QuestionInput::ShortText {
                prompt: "Exact?".to_owned(),
                answer: exact(&["quokka-accepted-value", "wombat-accepted-value"], false),
                explanation: explained.clone(),
            }),
            question(QuestionInput::ShortText {
                prompt: "Pattern?".to_owned(),
                answer: pattern(r"xylophone-\d{3}"),
                explanation: explained,
            }),
        ];
        let view = public_view(&pool, &draw(&pool, None, 3));
        assert_eq!(view.len(), 5);
        let json = serde_json::to_value(&view).unwrap();
        let mut keys = Vec::new();
        collect_keys(&json, &mut keys);
        for forbidden in ["correct", "answer", "values", "pattern", "explanation"] {
            assert!(
                !keys.iter().any(|key| key == forbidden),
                "key {forbidden} in {json}"
            );
        }
        let text = json.to_string();
        for secret in [
            "quokka-accepted-value",
            "wombat-accepted-value",
            "xylophone",
            "zebra-explanation",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }

    #[test]
    fn public_view_follows_the_layout() {
        let pool = numbered_pool(4);
        let layout = draw(&pool, Some(3), 5);
        let view = public_view(&pool, &layout);
        assert_eq!(view.len(), 3);
        for (shown, item) in view.iter().zip(&layout.items) {
            assert_eq!(shown.id, item.question);
            assert_eq!(shown.kind, "single");
            let option_ids: Vec<Uuid> = shown.options.iter().map(|option| option.id).collect();
            assert_eq!(option_ids, item.options);
        }
    }

    // -- grading -------------------------------------------------------------------------------

    #[test]
    fn grades_single_choice() {
        let pool = vec![question(single_input(abc([false, true, false])))];
        let spec = &pool[0].1;
        let right = Response::Single {
            option: option(spec, "B"),
        };
        let wrong = Response::Single {
            option: option(spec, "A"),
        };
        let unknown = Response::Single {
            option: Uuid::new_v4(),
        };
        let other_kind = Response::TrueFalse { value: true };
        let graded = grade_answers(&pool, vec![(0, right)]);
        assert!(graded.results[0].correct);
        assert_eq!(graded.results[0].correct_options, vec![option(spec, "B")]);
        for answer in [wrong, unknown, other_kind] {
            assert!(
                !grade_answers(&pool, vec![(0, answer.clone())]).results[0].correct,
                "{answer:?}"
            );
        }
    }

    #[test]
    fn grades_multiple_choice_as_the_exact_set() {
        let pool = vec![question(multiple_input(abc([true, true, false])))];
        let [a, b, c] = ["A", "B", "C"].map(|text| option(&pool[0].1, text));
        let answer = |options: Vec<Uuid>| (0, Response::Multiple { options });
        assert!(grade_answers(&pool, vec![answer(vec![b, a])]).results[0].correct);
        assert!(grade_answers(&pool, vec![answer(vec![a, b, a, b])]).results[0].correct);
        for chosen in [vec![a], vec![a, b, c], vec![a, b, Uuid::new_v4()], vec![]] {
            assert!(
                !grade_answers(&pool, vec![answer(chosen.clone())]).results[0].correct,
                "{chosen:?}"
            );
        }
        let graded = grade_answers(&pool, vec![answer(vec![a])]);
        assert_eq!(graded.results[0].correct_options, vec![a, b]);
    }

    #[test]
    fn grades_true_false() {
        assert!(grade_one(
            true_false(false),
            Response::TrueFalse { value: false }
        ));
        assert!(!grade_one(
            true_false(false),
            Response::TrueFalse { value: true }
        ));
        let pool = vec![question(true_false(false))];
        assert_eq!(
            grade_answers(&pool, vec![]).results[0].correct_value,
            Some(false)
        );
    }

    #[test]
    fn grades_exact_text() {
        let cities = || exact(&["Paris", "New   York"], false);
        assert!(text_is_right(cities(), "  paris "));
        assert!(text_is_right(cities(), "PARIS"));
        assert!(text_is_right(cities(), "new york"));
        assert!(text_is_right(cities(), " New \t\n York "));
        assert!(!text_is_right(cities(), "NewYork"));
        assert!(!text_is_right(cities(), "Pari"));
        assert!(!text_is_right(cities(), "   "));
        assert!(text_is_right(exact(&["ÉCOLE"], false), "école"));
        assert!(text_is_right(exact(&["Paris"], true), " Paris "));
        assert!(!text_is_right(exact(&["Paris"], true), "paris"));
    }

    #[test]
    fn grades_patterns_against_the_whole_trimmed_text() {
        assert!(text_is_right(pattern(r"\d+"), "12"));
        assert!(text_is_right(pattern(r"\d+"), " 12 "));
        assert!(!text_is_right(pattern(r"\d+"), "12a"));
        assert!(!text_is_right(pattern(r"\d+"), "a12"));
        assert!(!text_is_right(pattern(r"\d+"), "1 2"));
        assert!(text_is_right(pattern("cat|dog"), "dog"));
        assert!(!text_is_right(pattern("cat|dog"), "cats"));
        assert!(!text_is_right(pattern("abc"), "ABC"));
        assert!(text_is_right(pattern("(?i)abc"), "ABC"));
    }

    #[test]
    fn feedback_reveals_answers_and_explanation() {
        let pool = vec![
            question(QuestionInput::ShortText {
                prompt: "Capital?".to_owned(),
                answer: exact(&["Paris"], false),
                explanation: Some("It is Paris.".to_owned()),
            }),
            question(text_input(pattern(r"\d+"))),
        ];
        let graded = grade_answers(&pool, vec![]);
        let by_id = |id: Uuid| {
            graded
                .results
                .iter()
                .find(|result| result.question == id)
                .unwrap()
        };
        let exact_result = by_id(pool[0].0);
        assert_eq!(exact_result.accepted, vec!["Paris".to_owned()]);
        assert_eq!(exact_result.explanation.as_deref(), Some("It is Paris."));
        assert!(by_id(pool[1].0).accepted.is_empty());
    }

    #[test]
    fn missing_answers_are_wrong_and_outside_answers_ignored() {
        let pool = numbered_pool(4);
        let layout = draw(&pool, Some(2), 8);
        let drawn: HashSet<Uuid> = layout.items.iter().map(|item| item.question).collect();
        let responses: HashMap<Uuid, Response> = pool
            .iter()
            .filter(|(id, _)| !drawn.contains(id))
            .map(|(id, spec)| {
                (
                    *id,
                    Response::Single {
                        option: spec.options()[0].id,
                    },
                )
            })
            .chain([(Uuid::new_v4(), Response::TrueFalse { value: true })])
            .collect();
        let graded = grade(&pool, &layout, &responses);
        assert_eq!((graded.score, graded.correct, graded.total), (0, 0, 2));
        assert_eq!(graded.results.len(), 2);
        assert!(
            graded
                .results
                .iter()
                .all(|result| !result.correct && result.correct_options.len() == 1)
        );
    }

    #[test]
    fn questions_gone_from_the_pool_are_skipped() {
        let pool = numbered_pool(3);
        let layout = draw(&pool, None, 4);
        let remaining = &pool[1..];
        let graded = grade(remaining, &layout, &HashMap::new());
        assert_eq!((graded.total, graded.results.len()), (2, 2));
        assert!(
            graded
                .results
                .iter()
                .all(|result| result.question != pool[0].0)
        );
        assert_eq!(public_view(remaining, &layout).len(), 2);
    }

    #[test]
    fn score_rounds_down() {
        let pool = vec![
            question(true_false(true)),
            question(true_false(true)),
            question(true_false(true)),
        ];
        let yes = || Response::TrueFalse { value: true };
        let graded = grade_answers(&pool, vec![(0, yes()), (1, yes())]);
        assert_eq!((graded.score, graded.correct, graded.total), (66, 2, 3));
        let all = grade_answers(&pool, vec![(0, yes()), (1, yes()), (2, yes())]);
        assert_eq!(all.score, 100);
        let empty = grade(&[], &Layout { items: vec![] }, &HashMap::new());
        assert_eq!((empty.score, empty.correct, empty.total), (100, 0, 0));
        assert_eq!(score(1, 7), 14);
    }

    #[test]
    fn graded_round_trips_through_json() {
        let pool = numbered_pool(2);
        let graded = grade_answers(&pool, vec![]);
        let json = serde_json::to_string(&graded).unwrap();
        assert_eq!(serde_json::from_str::<Graded>(&json).unwrap(), graded);
        let response: Response =
            serde_json::from_str(r#"{"kind":"short_text","text":"hi"}"#).unwrap();
        assert_eq!(
            response,
            Response::ShortText {
                text: "hi".to_owned()
            }
        );
    }

    // -- properties ----------------------------------------------------------------------------

    fn mixed_pool() -> Vec<(Uuid, QuestionSpec)> {
        vec![
            question(single_input(abc([true, false, false]))),
            question(multiple_input(abc([true, false, true]))),
            question(true_false(true)),
            question(text_input(exact(&["Paris"], false))),
            question(text_input(pattern(r"\d+"))),
        ]
    }

    /// A response shape: which kind, option picks (indexes into the pool's option ids, or past
    /// them for an unknown id), a flag and a text.
    fn any_response() -> impl Strategy<Value = (u8, Vec<usize>, bool, String)> {
        (
            0u8..4,
            prop::collection::vec(0usize..20, 0..5),
            any::<bool>(),
            "\\PC{0,12}",
        )
    }

    fn response_from(
        (kind, picks, flag, text): (u8, Vec<usize>, bool, String),
        ids: &[Uuid],
    ) -> Response {
        let pick = |index: usize| ids.get(index).copied().unwrap_or_else(Uuid::new_v4);
        match kind {
            0 => Response::Single {
                option: pick(picks.first().copied().unwrap_or(0)),
            },
            1 => Response::Multiple {
                options: picks.into_iter().map(pick).collect(),
            },
            2 => Response::TrueFalse { value: flag },
            _ => Response::ShortText { text },
        }
    }

    proptest! {
        #[test]
        fn score_is_a_percentage_and_correct_at_most_total(
            seed in any::<u64>(),
            wanted in prop::option::of(0u32..8),
            answers in prop::collection::vec((0usize..7, any_response()), 0..10),
        ) {
            let pool = mixed_pool();
            let option_ids: Vec<Uuid> =
                pool.iter().flat_map(|(_, spec)| spec.options().iter().map(|option| option.id)).collect();
            let layout = draw(&pool, wanted, seed);
            let responses: HashMap<Uuid, Response> = answers
                .into_iter()
                .map(|(index, shape)| {
                    let question = pool.get(index).map_or_else(Uuid::new_v4, |(id, _)| *id);
                    (question, response_from(shape, &option_ids))
                })
                .collect();
            let graded = grade(&pool, &layout, &responses);
            prop_assert!(graded.score <= 100);
            prop_assert!(graded.correct <= graded.total);
            prop_assert_eq!(graded.total as usize, layout.items.len());
            prop_assert_eq!(graded.results.len(), layout.items.len());
        }

        #[test]
        fn draw_never_repeats_and_takes_the_wanted_count(
            size in 0usize..12,
            wanted in prop::option::of(0u32..15),
            seed in any::<u64>(),
        ) {
            let pool = numbered_pool(size);
            let layout = draw(&pool, wanted, seed);
            let expected = wanted.map_or(size, |count| size.min(count as usize));
            let unique: HashSet<Uuid> = layout.items.iter().map(|item| item.question).collect();
            prop_assert_eq!(layout.items.len(), expected);
            prop_assert_eq!(unique.len(), expected);
        }
    }
}
