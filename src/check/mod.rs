//! The checker: turns parsed files and a directory into a [`Model`], collecting every error of
//! the stage (warnings kept apart) instead of stopping at the first.
//!
//! Each submodule owns one kind of item; each check is a small function that records
//! diagnostics and carries on with what it could resolve.

mod decisions;
mod expectations;
mod instances;
mod schema;

use crate::ast;
use crate::diagnostic::{self, Code, Diagnostic};
use crate::directory::{Directory, Relationship};
use crate::model::{EnumDef, Model, RELATIONSHIP_ENUM, Schema, Setting};
use crate::source::{SourceMap, Span};
use indexmap::IndexMap;
use std::sync::Arc;

/// What checking produced: the model when there were no errors, and every diagnostic (errors
/// and warnings), sorted by location.
#[derive(Debug)]
pub struct Checked {
    pub model: Option<Model>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Checks a parsed policy set against a directory.
pub fn check(sources: SourceMap, files: &[ast::File], directory: Directory) -> Checked {
    let mut cx = Cx::new(sources, directory);
    schema::declare_enums(&mut cx, files);
    schema::declare_schemas(&mut cx, files);
    schema::tenant_values(&mut cx, files);
    instances::instances(&mut cx, files);
    instances::assignments(&mut cx, files);
    decisions::declare(&mut cx, files);
    decisions::rules(&mut cx, files);
    // The passes below walk `require` chains recursively: only once they are known to be short.
    if decisions::require_depth(&mut cx) {
        decisions::cycles(&mut cx);
        decisions::consulted(&mut cx);
        decisions::never_allows(&mut cx);
    }
    expectations::expectations(&mut cx, files);
    let mut diagnostics = cx.diagnostics;
    diagnostic::sort(&mut diagnostics);
    let model = (!diagnostics.iter().any(Diagnostic::is_error)).then_some(cx.model);
    Checked { model, diagnostics }
}

/// The checker's working state: the model as far as it is resolved, and what went wrong.
struct Cx {
    model: Model,
    diagnostics: Vec<Diagnostic>,
}

impl Cx {
    fn new(sources: SourceMap, directory: Directory) -> Self {
        let mut enums = IndexMap::new();
        enums.insert(
            RELATIONSHIP_ENUM.to_string(),
            EnumDef {
                name: RELATIONSHIP_ENUM.to_string(),
                variants: Relationship::ALL.iter().map(|r| r.as_str().to_string()).collect(),
                span: None,
            },
        );
        let model = Model {
            sources,
            directory: Arc::new(directory),
            enums,
            policy_types: IndexMap::new(),
            configs: IndexMap::new(),
            decisions: Default::default(),
            expectations: Vec::new(),
            relationship_enum: 0,
        };
        Self { model, diagnostics: Vec::new() }
    }

    fn push(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    /// A duplicate definition, pointing at both.
    fn duplicate(&mut self, what: &str, name: &str, second: Span, first: Option<Span>) {
        let mut d = Diagnostic::error(Code::Duplicate, format!("{what} `{name}` is defined more than once"))
            .at(second, "defined again here");
        d = match first {
            Some(f) => d.also(f, "first defined here"),
            None => d.help(format!("`{name}` is built in; choose another name")),
        };
        if first.is_some() {
            d = d.help("remove one definition or give it another name");
        }
        self.push(d);
    }

    /// An unknown name, with a suggestion from `candidates`.
    fn unknown<'a>(
        &mut self,
        code: Code,
        what: &str,
        name: &str,
        span: Span,
        candidates: impl IntoIterator<Item = &'a str>,
        fallback_help: &str,
    ) {
        self.push(unknown(code, what, name, span, candidates, fallback_help));
    }
}

/// The diagnostic for an unknown name, with a suggestion from `candidates`.
fn unknown<'a>(
    code: Code,
    what: &str,
    name: &str,
    span: Span,
    candidates: impl IntoIterator<Item = &'a str>,
    fallback_help: &str,
) -> Diagnostic {
    let help = diagnostic::did_you_mean(name, candidates).unwrap_or_else(|| fallback_help.to_string());
    Diagnostic::error(code, format!("unknown {what}: `{name}`")).at(span, format!("no such {what}")).help(help)
}

/// Finds a setting of a policy type or configuration by name.
fn find_setting<'s>(schema: &'s Schema, name: &ast::Ident) -> Result<(usize, &'s Setting), Diagnostic> {
    schema.settings.get_full(&name.name).map(|(i, _, s)| (i, s)).ok_or_else(|| {
        let names: Vec<&str> = schema.settings.keys().map(String::as_str).collect();
        unknown(
            Code::UnknownSetting,
            &format!("setting of `{}`", schema.name),
            &name.name,
            name.span,
            names.iter().copied(),
            &format!("`{}` declares: {}", schema.name, names.join(", ")),
        )
    })
}
