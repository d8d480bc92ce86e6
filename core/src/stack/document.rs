//! The stack file's TOML, read with positions: tables that refuse unknown keys, and
//! typed access to values that fails with a [`StackError`] at the value's spot
//! ("`replicas` in [containers.web] must be an integer, not a string").
//!
//! Knows TOML types only; what a value means is for the callers.

use std::ops::Range;

use toml_edit::{Item, TableLike, Value};

use crate::stack::schema::Schema;
use crate::stack::StackError;

/// The file being read: its name in errors and its text.
#[derive(Clone, Copy)]
pub(crate) struct Source<'a> {
    pub file: &'a str,
    pub text: &'a str,
}

impl Source<'_> {
    /// An error at `span`, with a help line when there is one.
    pub fn error(
        &self,
        span: Option<Range<usize>>,
        message: impl Into<String>,
        help: impl Into<Option<String>>,
    ) -> StackError {
        StackError::new(self.file, self.text, span, message, help.into())
    }
}

/// A table of the file, with how errors name it and the keys it accepts.
pub(crate) struct Table<'a> {
    pub inner: &'a dyn TableLike,
    /// `[containers.web]`, or `` `resources` of [containers.web] ``.
    pub name: String,
    /// Where the table is named: its key.
    pub span: Option<Range<usize>>,
    pub schema: &'static Schema,
}

/// One `key = value` of a table.
pub(crate) struct Field<'a> {
    pub key: &'a str,
    pub key_span: Option<Range<usize>>,
    pub item: &'a Item,
    /// The name of the table that holds it, as errors write it.
    pub table: String,
    pub example: &'static str,
}

/// A text with where it is.
#[derive(Debug, Clone)]
pub(crate) struct Located<T> {
    pub value: T,
    pub span: Option<Range<usize>>,
}

/// "a string", "an integer"… for "must be X, not Y".
fn kind_of_item(item: &Item) -> &'static str {
    match item {
        Item::Value(v) => kind_of_value(v),
        Item::Table(_) => "a table",
        Item::ArrayOfTables(_) => "an array of tables",
        Item::None => "nothing",
    }
}

pub(crate) fn kind_of_value(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date",
        Value::Array(_) => "an array",
        Value::InlineTable(_) => "a table",
    }
}

impl<'a> Table<'a> {
    /// The table of `item`, or an error saying that `what` must be a table.
    pub fn of(
        src: &Source,
        item: &'a Item,
        name: String,
        span: Option<Range<usize>>,
        schema: &'static Schema,
    ) -> Result<Table<'a>, StackError> {
        match item.as_table_like() {
            Some(inner) => Ok(Table {
                inner,
                name,
                span,
                schema,
            }),
            None => Err(src.error(
                item.span().or(span),
                format!("{name} must be a table, not {}", kind_of_item(item)),
                Some(format!("write {name} on a line of its own, then its keys")),
            )),
        }
    }

    /// Fails at the first key (in file order) that the schema does not accept.
    pub fn check_keys(&self, src: &Source) -> Result<(), StackError> {
        for (key, _) in self.inner.iter() {
            if !self.schema.accepts(key) {
                return Err(src.error(
                    self.key_span(key),
                    format!("unknown key `{key}` in {}", self.name),
                    Some(self.schema.unknown_key_help(key)),
                ));
            }
        }
        Ok(())
    }

    /// The keys, in file order, with their spans and items.
    pub fn entries(&self) -> Vec<(&'a str, Option<Range<usize>>, &'a Item)> {
        self.inner
            .iter()
            .map(|(k, item)| (k, self.key_span(k), item))
            .collect()
    }

    fn key_span(&self, key: &str) -> Option<Range<usize>> {
        self.inner.get_key_value(key).and_then(|(k, _)| k.span())
    }

    /// The field `key`, when written.
    pub fn get(&self, key: &str) -> Option<Field<'a>> {
        let (k, item) = self.inner.get_key_value(key)?;
        if item.is_none() {
            return None;
        }
        Some(Field {
            key: k.get(),
            key_span: k.span(),
            item,
            table: self.name.clone(),
            example: self.schema.example(key),
        })
    }
}

impl<'a> Field<'a> {
    /// Where the value is (else where its key is).
    pub fn span(&self) -> Option<Range<usize>> {
        self.item.span().or_else(|| self.key_span.clone())
    }

    /// The error "`key` in TABLE must be WHAT, not …", with the key's example.
    pub fn wrong_type(&self, src: &Source, what: &str) -> StackError {
        src.error(
            self.span(),
            format!(
                "`{}` in {} must be {what}, not {}",
                self.key,
                self.table,
                kind_of_item(self.item)
            ),
            self.help(),
        )
    }

    /// An error about this value, with the key's example as help.
    pub fn invalid(&self, src: &Source, message: impl Into<String>) -> StackError {
        src.error(self.span(), message, self.help())
    }

    fn help(&self) -> Option<String> {
        (!self.example.is_empty()).then(|| format!("e.g. {}", self.example))
    }

    pub fn str(&self, src: &Source) -> Result<&'a str, StackError> {
        self.item
            .as_str()
            .ok_or_else(|| self.wrong_type(src, "a string"))
    }

    pub fn integer(&self, src: &Source) -> Result<i64, StackError> {
        self.item
            .as_integer()
            .ok_or_else(|| self.wrong_type(src, "an integer"))
    }

    pub fn bool(&self, src: &Source) -> Result<bool, StackError> {
        self.item
            .as_bool()
            .ok_or_else(|| self.wrong_type(src, "true or false"))
    }

    /// The elements of an array value, each with its span.
    pub fn array(&self, src: &Source, what: &str) -> Result<Vec<&'a Value>, StackError> {
        match self.item.as_array() {
            Some(a) => Ok(a.iter().collect()),
            None => Err(self.wrong_type(src, what)),
        }
    }

    /// An array of strings.
    pub fn strings(&self, src: &Source) -> Result<Vec<Located<&'a str>>, StackError> {
        self.array(src, "an array of strings")?
            .into_iter()
            .map(|v| {
                v.as_str()
                    .map(|s| Located {
                        value: s,
                        span: v.span(),
                    })
                    .ok_or_else(|| self.wrong_element(src, v, "a string"))
            })
            .collect()
    }

    /// The error "each entry of `key` in TABLE must be WHAT, not …".
    pub fn wrong_element(&self, src: &Source, v: &Value, what: &str) -> StackError {
        src.error(
            v.span().or_else(|| self.span()),
            format!(
                "each entry of `{}` in {} must be {what}, not {}",
                self.key,
                self.table,
                kind_of_value(v)
            ),
            self.help(),
        )
    }

    /// The value as a nested table, named "`key` of TABLE".
    pub fn table(&self, src: &Source, schema: &'static Schema) -> Result<Table<'a>, StackError> {
        match self.item.as_table_like() {
            Some(inner) => Ok(Table {
                inner,
                name: format!("`{}` of {}", self.key, self.table),
                span: self.key_span.clone(),
                schema,
            }),
            None => Err(self.wrong_type(src, "a table")),
        }
    }
}
