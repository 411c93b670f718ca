//! The public side of web forms, outside the API and without sign-in:
//!
//! - `GET /f/{key}` a standalone page with the form (`?lang=zh|en`; UTM parameters in the
//!   query string and the `Referer` of the visit are carried into hidden fields);
//! - `POST /f/{key}` a post, as `application/x-www-form-urlencoded` (a browser's form post:
//!   answered with HTML in the form's language — the thank-you page, a redirect, or the form
//!   again with the problem marked) or as JSON (answered with JSON);
//! - `OPTIONS /f/{key}` the CORS preflight.
//!
//! CORS: `Access-Control-Allow-Origin` is sent only to the form's allowed origins. A post from
//! a page of another origin is refused (403) when the form lists allowed origins and that
//! origin is not one of them; a form without a list takes plain form posts from any site (the
//! embedded snippet is a plain `<form>`), but scripts elsewhere cannot read its answers.
//!
//! The client address for the rate limit is the connection's, or the first address of
//! `X-Forwarded-For` when the server is configured to trust a reverse proxy.

use crate::error::ApiError;
use crate::extract::QueryPairs;
use crate::AppState;
use askama::Template;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::net::{IpAddr, SocketAddr};
use xiansuo_app::channels::forms::{
    self, CustomDef, Form, Input, Receipt, ShownField, Submission, SubmitError, HONEYPOT,
    UTM_PARAMETERS,
};
use xiansuo_app::StoreError;
use xiansuo_core::Invalid;

/// The largest form post accepted: far more than any form needs.
pub const FORM_BODY_LIMIT: usize = 64 * 1024;

/// `/f/{key}`.
pub fn router() -> Router<AppState> {
    Router::new().route("/f/{key}", get(page).post(submit).options(preflight))
}

/// The words of the public pages, in Chinese and English.
struct Words {
    html_lang: &'static str,
    submit: &'static str,
    required: &'static str,
    check_fields: &'static str,
    honeypot: &'static str,
    thank_you_title: &'static str,
    not_found_title: &'static str,
    not_found: &'static str,
    error_title: &'static str,
    rate_limited: &'static str,
    wrong_origin: &'static str,
    too_large: &'static str,
    unsupported: &'static str,
    internal: &'static str,
    back: &'static str,
    /// Translations of the store's most frequent messages.
    messages: &'static [(&'static str, &'static str)],
    /// What is wrong with a phone or an email, whose messages quote the value.
    field_messages: &'static [(&'static str, &'static str)],
}

static ZH: Words = Words {
    html_lang: "zh-CN",
    submit: "提交",
    required: "必填",
    check_fields: "请检查标出的字段。",
    honeypot: "请勿填写此项",
    thank_you_title: "提交成功",
    not_found_title: "表单不存在",
    not_found: "这个表单不存在或已停用。",
    error_title: "无法提交",
    rate_limited: "提交过于频繁，请 {n} 秒后再试。",
    wrong_origin: "这个表单不接受来自该网站的提交。",
    too_large: "提交的内容太多。",
    unsupported: "无法读取提交的内容。",
    internal: "服务器出错，已记录日志，请稍后再试。",
    back: "返回表单",
    messages: &[
        ("is required", "必填"),
        ("must not be empty", "不能为空"),
        ("must be accepted", "请勾选同意"),
        ("must be a whole number", "请填写整数"),
        ("must be a number", "请填写数字"),
        ("must be text", "请填写文字"),
        (
            "is required: give a name, an email or a phone",
            "请至少填写姓名、邮箱或电话之一",
        ),
        ("must not contain control characters", "不能包含控制字符"),
    ],
    field_messages: &[
        (
            "phone",
            "不是有效的电话号码（例如 13800138000 或 +86 138 0013 8000）",
        ),
        ("email", "不是有效的邮箱地址（例如 name@example.com）"),
    ],
};

static EN: Words = Words {
    html_lang: "en",
    submit: "Submit",
    required: "required",
    check_fields: "Please check the field marked below.",
    honeypot: "Leave this field empty",
    thank_you_title: "Thank you",
    not_found_title: "Form not found",
    not_found: "This form does not exist or is no longer active.",
    error_title: "Not sent",
    rate_limited: "Too many submissions; please try again in {n} seconds.",
    wrong_origin: "This form does not accept submissions from that site.",
    too_large: "The submission is too large.",
    unsupported: "The submission cannot be read.",
    internal: "Something went wrong on our side and has been logged; please try again later.",
    back: "Back to the form",
    messages: &[(
        "is required: give a name, an email or a phone",
        "give at least a name, an email or a phone",
    )],
    field_messages: &[
        (
            "phone",
            "is not a valid phone number (such as 13800138000 or +86 138 0013 8000)",
        ),
        (
            "email",
            "is not a valid email address (such as name@example.com)",
        ),
    ],
};

fn words(lang: &str) -> &'static Words {
    if lang == "en" {
        &EN
    } else {
        &ZH
    }
}

impl Words {
    /// What is wrong with a field, in these words where a translation is known.
    fn invalid(&self, invalid: &Invalid) -> String {
        if let Some((_, m)) = self.messages.iter().find(|(k, _)| *k == invalid.message) {
            return (*m).to_owned();
        }
        if let Some((_, m)) = self
            .field_messages
            .iter()
            .find(|(k, _)| *k == invalid.field)
        {
            return (*m).to_owned();
        }
        invalid.message.clone()
    }
}

// ---------------------------------------------------------------------------------------------
// Templates.

struct Choice {
    value: String,
    selected: bool,
}

struct FieldView {
    id: String,
    name: String,
    label: String,
    required: bool,
    /// The `type` of the input, or `textarea`, `select`, `multi`, `checkbox`.
    kind: &'static str,
    step: &'static str,
    value: String,
    checked: bool,
    options: Vec<Choice>,
    error: Option<String>,
}

struct ConsentView {
    text: String,
    required: bool,
    checked: bool,
    error: Option<String>,
}

struct Hidden {
    name: String,
    value: String,
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<form class="xs-form" method="post" action="{{ action }}" accept-charset="UTF-8" lang="{{ w.html_lang }}">
{% if let Some(summary) = summary %}<p class="xs-alert" role="alert">{{ summary }}</p>
{% endif %}{% for f in fields %}<div class="xs-field{% if f.error.is_some() %} xs-invalid{% endif %}">
{% if f.kind == "checkbox" %}<label><input type="checkbox" name="{{ f.name }}" value="true"{% if f.checked %} checked{% endif %}{% if f.required %} required{% endif %}> {{ f.label }}{% if f.required %} <abbr class="xs-required" title="{{ w.required }}">*</abbr>{% endif %}</label>
{% else if f.kind == "multi" %}<fieldset><legend>{{ f.label }}{% if f.required %} <abbr class="xs-required" title="{{ w.required }}">*</abbr>{% endif %}</legend>
{% for o in f.options %}<label><input type="checkbox" name="{{ f.name }}" value="{{ o.value }}"{% if o.selected %} checked{% endif %}> {{ o.value }}</label>
{% endfor %}</fieldset>
{% else %}<label for="{{ f.id }}">{{ f.label }}{% if f.required %} <abbr class="xs-required" title="{{ w.required }}">*</abbr>{% endif %}</label>
{% if f.kind == "textarea" %}<textarea id="{{ f.id }}" name="{{ f.name }}" rows="4"{% if f.required %} required{% endif %}>{{ f.value }}</textarea>
{% else if f.kind == "select" %}<select id="{{ f.id }}" name="{{ f.name }}"{% if f.required %} required{% endif %}><option value=""></option>{% for o in f.options %}<option value="{{ o.value }}"{% if o.selected %} selected{% endif %}>{{ o.value }}</option>{% endfor %}</select>
{% else %}<input id="{{ f.id }}" type="{{ f.kind }}" name="{{ f.name }}" value="{{ f.value }}"{% if !f.step.is_empty() %} step="{{ f.step }}"{% endif %}{% if f.required %} required{% endif %}>
{% endif %}{% endif %}{% if let Some(e) = f.error %}<p class="xs-field-error">{{ e }}</p>
{% endif %}</div>
{% endfor %}{% if let Some(c) = consent %}<div class="xs-field xs-consent{% if c.error.is_some() %} xs-invalid{% endif %}">
<label><input type="checkbox" name="consent" value="true"{% if c.checked %} checked{% endif %}{% if c.required %} required{% endif %}> {{ c.text }}</label>
{% if let Some(e) = c.error %}<p class="xs-field-error">{{ e }}</p>
{% endif %}</div>
{% endif %}<div aria-hidden="true" style="position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden"><label>{{ w.honeypot }} <input type="text" name="{{ honeypot }}" value="" tabindex="-1" autocomplete="off"></label></div>
{% for h in hidden %}<input type="hidden" name="{{ h.name }}" value="{{ h.value }}">
{% endfor %}<button type="submit">{{ w.submit }}</button>
</form>"#
)]
struct FormBody<'a> {
    w: &'static Words,
    action: String,
    summary: Option<&'static str>,
    fields: Vec<FieldView>,
    consent: Option<ConsentView>,
    hidden: Vec<Hidden>,
    honeypot: &'a str,
}

struct Link {
    href: String,
    text: &'static str,
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<!doctype html>
<html lang="{{ w.html_lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body{margin:0;background:#f5f6f8;color:#1f2329;font:16px/1.6 -apple-system,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif}
.xs-page{max-width:560px;margin:0 auto;padding:32px 20px}
h1{font-size:22px;margin:0 0 16px}
.xs-message{background:#fff;border-radius:8px;padding:16px}
.xs-form{background:#fff;border-radius:8px;padding:20px;display:grid;gap:14px}
.xs-field label,.xs-field legend{display:block;font-weight:600;margin-bottom:4px}
.xs-field fieldset{border:0;margin:0;padding:0}
.xs-field fieldset label,.xs-consent label,.xs-field label:has(input[type=checkbox]){font-weight:400}
.xs-field input:not([type=checkbox]),.xs-field select,.xs-field textarea{box-sizing:border-box;width:100%;padding:8px 10px;border:1px solid #c9cdd4;border-radius:6px;font:inherit}
.xs-required{color:#d4380d;text-decoration:none}
.xs-invalid input,.xs-invalid select,.xs-invalid textarea{border-color:#d4380d}
.xs-field-error,.xs-alert{color:#d4380d;margin:4px 0 0}
button{justify-self:start;padding:9px 22px;border:0;border-radius:6px;background:#1664ff;color:#fff;font:inherit;cursor:pointer}
</style>
</head>
<body>
<main class="xs-page">
<h1>{{ title }}</h1>
{% if let Some(m) = message %}<p class="xs-message">{{ m }}</p>
{% endif %}{% if let Some(l) = link %}<p><a href="{{ l.href }}">{{ l.text }}</a></p>
{% endif %}{{ body|safe }}
</main>
</body>
</html>"#
)]
struct Page {
    w: &'static Words,
    title: String,
    message: Option<String>,
    link: Option<Link>,
    /// A rendered [`FormBody`], or empty.
    body: String,
}

/// What a form post sent, to show it again after a problem.
#[derive(Default)]
struct Entered<'a> {
    values: &'a [(String, Value)],
    error: Option<&'a Invalid>,
}

impl Entered<'_> {
    fn texts(&self, name: &str) -> Vec<String> {
        self.values
            .iter()
            .filter(|(n, _)| n == name)
            .flat_map(|(_, v)| match v {
                Value::Array(items) => items.clone(),
                other => vec![other.clone()],
            })
            .filter_map(|v| match v {
                Value::String(s) => Some(s),
                Value::Number(n) => Some(n.to_string()),
                Value::Bool(b) => Some(b.to_string()),
                _ => None,
            })
            .collect()
    }

    fn error_of(&self, w: &Words, name: &str) -> Option<String> {
        self.error.filter(|e| e.field == name).map(|e| w.invalid(e))
    }
}

fn field_view(w: &Words, index: usize, field: &ShownField, entered: &Entered) -> FieldView {
    let values = entered.texts(&field.name);
    let value = values.first().cloned().unwrap_or_default();
    let choices = |options: &[String]| {
        options
            .iter()
            .map(|o| Choice {
                value: o.clone(),
                selected: values.contains(o),
            })
            .collect()
    };
    let (kind, step, options) = match &field.input {
        Input::Text => ("text", "", Vec::new()),
        Input::LongText => ("textarea", "", Vec::new()),
        Input::Email => ("email", "", Vec::new()),
        Input::Phone => ("tel", "", Vec::new()),
        Input::Integer => ("number", "1", Vec::new()),
        Input::Number => ("number", "any", Vec::new()),
        Input::Date => ("date", "", Vec::new()),
        Input::Select(options) => ("select", "", choices(options)),
        Input::MultiSelect(options) => ("multi", "", choices(options)),
        Input::Checkbox => ("checkbox", "", Vec::new()),
    };
    FieldView {
        id: format!("xs-field-{index}"),
        name: field.name.clone(),
        label: field.label.clone(),
        required: field.required,
        kind,
        step,
        checked: kind == "checkbox"
            && values
                .iter()
                .any(|v| matches!(v.as_str(), "true" | "on" | "1" | "yes")),
        value,
        options,
        error: entered.error_of(w, &field.name),
    }
}

/// The `<form>` of `form` in `lang`, posting to `action`.
fn form_html(
    form: &Form,
    defs: &[CustomDef],
    lang: &str,
    action: String,
    hidden: Vec<Hidden>,
    entered: &Entered,
) -> Result<String, askama::Error> {
    let w = words(lang);
    let fields: Vec<FieldView> = forms::shown_fields(form, defs, lang)
        .iter()
        .enumerate()
        .map(|(i, f)| field_view(w, i, f, entered))
        .collect();
    let consent = form.consent.as_ref().map(|c| ConsentView {
        text: form.consent_text(lang).unwrap_or_default(),
        required: c.required,
        checked: !entered.texts("consent").is_empty(),
        error: entered.error_of(w, "consent"),
    });
    let mut hidden = hidden;
    hidden.insert(
        0,
        Hidden {
            name: "lang".into(),
            value: lang.into(),
        },
    );
    FormBody {
        w,
        action,
        summary: entered.error.map(|_| w.check_fields),
        fields,
        consent,
        hidden,
        honeypot: HONEYPOT,
    }
    .render()
}

/// The HTML to paste into a page of another site: a plain `<form>` posting to `form_url`.
pub fn embed_snippet(
    form: &Form,
    defs: &[CustomDef],
    lang: &str,
    form_url: &str,
) -> Result<String, askama::Error> {
    form_html(
        form,
        defs,
        lang,
        form_url.to_owned(),
        Vec::new(),
        &Entered::default(),
    )
}

// ---------------------------------------------------------------------------------------------
// Answers.

/// Headers every public page and answer carries.
fn finish(mut response: Response, form: Option<&Form>, cors: Option<&HeaderValue>) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = cors {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    }
    if headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"))
    {
        // The page may be framed by the form's allowed origins, and may post to itself (and be
        // redirected to the form's thank-you address).
        let mut ancestors = vec!["'self'".to_owned()];
        let mut actions = vec!["'self'".to_owned()];
        if let Some(form) = form {
            ancestors.extend(form.allowed_origins.iter().cloned());
            if let Some(origin) = form.redirect_url.as_deref().and_then(origin_of) {
                actions.push(origin);
            }
        }
        let policy = format!(
            "default-src 'none'; style-src 'unsafe-inline'; form-action {}; frame-ancestors {}; base-uri 'none'",
            actions.join(" "),
            ancestors.join(" ")
        );
        if let Ok(v) = HeaderValue::from_str(&policy) {
            headers.insert(header::CONTENT_SECURITY_POLICY, v);
        }
    }
    response
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then(|| format!("{scheme}://{host}"))
}

fn page_response(status: StatusCode, page: Page) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => ApiError::Internal(anyhow::anyhow!("rendering a form page: {e}")).into_response(),
    }
}

fn message_page(
    status: StatusCode,
    lang: &str,
    title: &str,
    message: String,
    back: Option<String>,
) -> Response {
    let w = words(lang);
    page_response(
        status,
        Page {
            w,
            title: title.to_owned(),
            message: Some(message),
            link: back.map(|href| Link { href, text: w.back }),
            body: String::new(),
        },
    )
}

/// How a request wants to be answered.
struct Reply<'a> {
    html: bool,
    lang: &'static str,
    form: Option<&'a Form>,
    cors: Option<HeaderValue>,
}

impl Reply<'_> {
    fn error(&self, e: ApiError) -> Response {
        let response = if self.html {
            let w = words(self.lang);
            let back = self
                .form
                .map(|f| format!("/f/{}?lang={}", f.key, self.lang));
            match &e {
                ApiError::NotFound(_) => message_page(
                    StatusCode::NOT_FOUND,
                    self.lang,
                    w.not_found_title,
                    w.not_found.into(),
                    None,
                ),
                ApiError::TooManyRequests {
                    retry_after_secs, ..
                } => {
                    let mut r = message_page(
                        StatusCode::TOO_MANY_REQUESTS,
                        self.lang,
                        w.error_title,
                        w.rate_limited.replace("{n}", &retry_after_secs.to_string()),
                        back,
                    );
                    if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                        r.headers_mut().insert(header::RETRY_AFTER, v);
                    }
                    r
                }
                other => {
                    if let ApiError::Internal(cause) = other {
                        tracing::error!(error = ?cause, "a form post failed");
                    }
                    let message = match other {
                        ApiError::Forbidden(_) => w.wrong_origin,
                        ApiError::PayloadTooLarge(_) => w.too_large,
                        ApiError::UnsupportedMediaType(_) | ApiError::BadRequest(_) => {
                            w.unsupported
                        }
                        _ => w.internal,
                    };
                    message_page(
                        other.status(),
                        self.lang,
                        w.error_title,
                        message.into(),
                        back,
                    )
                }
            }
        } else {
            e.into_response()
        };
        finish(response, self.form, self.cors.as_ref())
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers.

/// Whether the client asks for JSON (`Accept: application/json`): its errors are then JSON,
/// like every other API error, instead of a page.
fn asks_for_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"))
}

fn query_value<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// The host a request was addressed to, from `Host`.
fn request_host(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::HOST).and_then(|v| v.to_str().ok())
}

/// True when `url` (an Origin or a Referer) points at this server itself.
fn is_same_host(url: &str, headers: &HeaderMap) -> bool {
    let host = url
        .split_once("://")
        .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or_default());
    host.is_some() && host == request_host(headers)
}

/// The outcome of looking at a request's `Origin`.
enum OriginCheck {
    /// Any site may post; answer without CORS headers.
    Plain,
    /// An allowed origin: answer with `Access-Control-Allow-Origin` for it.
    Allowed(HeaderValue),
    /// The form lists its origins and this is not one of them.
    Refused,
}

fn check_origin(form: &Form, headers: &HeaderMap) -> OriginCheck {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return OriginCheck::Plain;
    };
    let text = origin.to_str().unwrap_or_default().trim_end_matches('/');
    if form
        .allowed_origins
        .iter()
        .any(|o| o.eq_ignore_ascii_case(text))
    {
        return OriginCheck::Allowed(origin.clone());
    }
    if form.allowed_origins.is_empty() || is_same_host(text, headers) {
        OriginCheck::Plain
    } else {
        OriginCheck::Refused
    }
}

/// `GET /f/{key}`: the standalone page.
async fn page(
    State(s): State<AppState>,
    Path(key): Path<String>,
    QueryPairs(query): QueryPairs,
    headers: HeaderMap,
) -> Response {
    let asked = query_value(&query, "lang");
    let form = match forms::by_key(&s.db, &key).await {
        Ok(Some(form)) => form,
        Ok(None) => {
            let lang = if asked == Some("en") { "en" } else { "zh" };
            let reply = Reply {
                html: !asks_for_json(&headers),
                lang,
                form: None,
                cors: None,
            };
            return reply.error(ApiError::NotFound("no such form".into()));
        }
        Err(e) => {
            let reply = Reply {
                html: !asks_for_json(&headers),
                lang: "zh",
                form: None,
                cors: None,
            };
            return reply.error(ApiError::Internal(e));
        }
    };
    let lang = form.language_for(asked);
    let reply = Reply {
        html: true,
        lang,
        form: Some(&form),
        cors: None,
    };
    let defs = match forms::lead_custom_fields(&s.db).await {
        Ok(defs) => defs,
        Err(e) => return reply.error(ApiError::Internal(e)),
    };
    let mut hidden: Vec<Hidden> = UTM_PARAMETERS
        .iter()
        .filter_map(|p| {
            query_value(&query, p)
                .filter(|v| !v.trim().is_empty())
                .map(|v| Hidden {
                    name: (*p).to_owned(),
                    value: v.to_owned(),
                })
        })
        .collect();
    let referrer = query_value(&query, "referrer")
        .map(str::to_owned)
        .or_else(|| {
            headers
                .get(header::REFERER)
                .and_then(|v| v.to_str().ok())
                .filter(|r| !is_same_host(r, &headers))
                .map(str::to_owned)
        });
    if let Some(referrer) = referrer {
        hidden.push(Hidden {
            name: "referrer".into(),
            value: referrer,
        });
    }
    let body = match form_html(
        &form,
        &defs,
        lang,
        format!("/f/{}", form.key),
        hidden,
        &Entered::default(),
    ) {
        Ok(body) => body,
        Err(e) => return reply.error(ApiError::Internal(e.into())),
    };
    let response = page_response(
        StatusCode::OK,
        Page {
            w: words(lang),
            title: form.name.clone(),
            message: None,
            link: None,
            body,
        },
    );
    finish(response, Some(&form), None)
}

/// `OPTIONS /f/{key}`: the CORS preflight, granted to the form's allowed origins only.
async fn preflight(
    State(s): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Response {
    let form = match forms::by_key(&s.db, &key).await {
        Ok(Some(form)) => form,
        Ok(None) => return ApiError::NotFound("no such form".into()).into_response(),
        Err(e) => return ApiError::Internal(e).into_response(),
    };
    let OriginCheck::Allowed(origin) = check_origin(&form, &headers) else {
        let reply = Reply {
            html: false,
            lang: "en",
            form: Some(&form),
            cors: None,
        };
        return reply.error(ApiError::Forbidden(
            "this origin is not one of the form's allowed origins".into(),
        ));
    };
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, GET, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Content-Type, Accept"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    finish(response, Some(&form), Some(&origin))
}

/// The client's address: the connection's, or the first of `X-Forwarded-For` behind a trusted
/// reverse proxy.
fn client_ip(trust_forwarded_for: bool, headers: &HeaderMap, peer: SocketAddr) -> IpAddr {
    if trust_forwarded_for {
        let forwarded = headers
            .get(HeaderName::from_static("x-forwarded-for"))
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok());
        if let Some(ip) = forwarded {
            return ip;
        }
    }
    peer.ip()
}

/// The name/value pairs of a post, by its content type.
fn read_body(headers: &HeaderMap, bytes: &[u8]) -> Result<Vec<(String, Value)>, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes)
            .map_err(|e| ApiError::BadRequest(format!("the form data cannot be read: {e}")))?;
        Ok(pairs
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect())
    } else if content_type.starts_with("application/json") {
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|e| ApiError::BadRequest(format!("the body is not valid JSON: {e}")))?;
        match value {
            Value::Object(map) => Ok(map.into_iter().collect()),
            _ => Err(ApiError::Invalid(Invalid::new(
                "body",
                "must be a JSON object of field names and values",
            ))),
        }
    } else {
        Err(ApiError::UnsupportedMediaType(
            "send the form as application/x-www-form-urlencoded or application/json".into(),
        ))
    }
}

/// `POST /f/{key}`.
async fn submit(
    State(s): State<AppState>,
    Path(key): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    QueryPairs(query): QueryPairs,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            t.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
        && !asks_for_json(&headers);
    let asked = query_value(&query, "lang");
    let form = match forms::by_key(&s.db, &key).await {
        Ok(Some(form)) => form,
        Ok(None) => {
            let lang = if asked == Some("en") { "en" } else { "zh" };
            let reply = Reply {
                html,
                lang,
                form: None,
                cors: None,
            };
            return reply.error(ApiError::NotFound(
                "no such form, or it is no longer active".into(),
            ));
        }
        Err(e) => {
            let reply = Reply {
                html,
                lang: "zh",
                form: None,
                cors: None,
            };
            return reply.error(ApiError::Internal(e));
        }
    };
    let mut reply = Reply {
        html,
        lang: form.language_for(asked),
        form: Some(&form),
        cors: None,
    };
    match check_origin(&form, &headers) {
        OriginCheck::Plain => {}
        OriginCheck::Allowed(origin) => reply.cors = Some(origin),
        OriginCheck::Refused => {
            return reply.error(ApiError::Forbidden(
                "this form does not accept submissions from that origin".into(),
            ))
        }
    }
    let bytes = match axum::body::to_bytes(body, FORM_BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return reply.error(ApiError::PayloadTooLarge(format!(
                "a form post is limited to {} KiB",
                FORM_BODY_LIMIT / 1024
            )))
        }
    };
    let values = match read_body(&headers, &bytes) {
        Ok(values) => values,
        Err(e) => return reply.error(e),
    };
    let lang_field = values
        .iter()
        .find_map(|(n, v)| (n == "lang").then(|| v.as_str()).flatten());
    reply.lang = form.language_for(lang_field.or(asked));
    let submission = Submission {
        values: values.clone(),
        client_ip: client_ip(s.trust_forwarded_for, &headers, peer).to_string(),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        referer: headers
            .get(header::REFERER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        language: asked.map(str::to_owned),
    };
    match forms::submit(&s.db, &s.writer, &form, submission, s.clock.now()).await {
        Ok(receipt) => received(&reply, &form, &receipt),
        Err(SubmitError::RateLimited { retry_after_secs }) => {
            reply.error(ApiError::TooManyRequests {
                message: format!(
                    "too many submissions of this form from your address; try again in {retry_after_secs} s"
                ),
                retry_after_secs,
            })
        }
        Err(SubmitError::Store(StoreError::Invalid(invalid))) if html => {
            invalid_page(&s, &reply, &form, &values, &invalid).await
        }
        Err(SubmitError::Store(e)) => reply.error(e.into()),
    }
}

/// The answer to a post that was taken.
fn received(reply: &Reply, form: &Form, receipt: &Receipt) -> Response {
    let message = form.thank_you(receipt.language);
    let response = if reply.html {
        match &form.redirect_url {
            Some(url) => Redirect::to(url).into_response(),
            None => message_page(
                StatusCode::OK,
                receipt.language,
                words(receipt.language).thank_you_title,
                message,
                None,
            ),
        }
    } else {
        (
            StatusCode::CREATED,
            Json(json!({
                "submission_id": receipt.submission_id,
                "message": message,
                "redirect_url": form.redirect_url,
            })),
        )
            .into_response()
    };
    finish(response, Some(form), reply.cors.as_ref())
}

/// The form again, with what was entered and the problem marked: a browser's answer to a post
/// that cannot be taken as it is.
async fn invalid_page(
    s: &AppState,
    reply: &Reply<'_>,
    form: &Form,
    values: &[(String, Value)],
    invalid: &Invalid,
) -> Response {
    let defs = match forms::lead_custom_fields(&s.db).await {
        Ok(defs) => defs,
        Err(e) => return reply.error(ApiError::Internal(e)),
    };
    let keep = |name: &str| UTM_PARAMETERS.contains(&name) || name == "referrer";
    let hidden: Vec<Hidden> = values
        .iter()
        .filter(|(n, _)| keep(n))
        .filter_map(|(n, v)| {
            v.as_str().map(|v| Hidden {
                name: n.clone(),
                value: v.to_owned(),
            })
        })
        .collect();
    let entered = Entered {
        values,
        error: Some(invalid),
    };
    let body = match form_html(
        form,
        &defs,
        reply.lang,
        format!("/f/{}", form.key),
        hidden,
        &entered,
    ) {
        Ok(body) => body,
        Err(e) => return reply.error(ApiError::Internal(e.into())),
    };
    let response = page_response(
        StatusCode::UNPROCESSABLE_ENTITY,
        Page {
            w: words(reply.lang),
            title: form.name.clone(),
            message: None,
            link: None,
            body,
        },
    );
    finish(response, Some(form), reply.cors.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_of_redirect_addresses() {
        assert_eq!(
            origin_of("https://www.example.com/thanks?x=1").as_deref(),
            Some("https://www.example.com")
        );
        assert_eq!(origin_of("nonsense"), None);
    }

    #[test]
    fn x_forwarded_for_counts_only_when_trusted() {
        let peer: SocketAddr = "10.0.0.2:5000".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.9, 10.0.0.2"),
        );
        assert_eq!(client_ip(false, &headers, peer).to_string(), "10.0.0.2");
        assert_eq!(client_ip(true, &headers, peer).to_string(), "203.0.113.9");
        headers.insert("x-forwarded-for", HeaderValue::from_static("unknown"));
        assert_eq!(client_ip(true, &headers, peer).to_string(), "10.0.0.2");
    }

    #[test]
    fn messages_are_translated_where_known() {
        assert_eq!(ZH.invalid(&Invalid::new("name", "is required")), "必填");
        assert_eq!(
            ZH.invalid(&Invalid::new("email", "'x' is not a valid email")),
            "不是有效的邮箱地址（例如 name@example.com）"
        );
        assert_eq!(
            EN.invalid(&Invalid::new("name", "is required")),
            "is required"
        );
    }
}
