//! The OpenAPI 3.1 document of the JSON API, served at `/api/openapi.json` and kept as a reviewed
//! snapshot in `docs/openapi.json`.
//!
//! It has three sources. The routes of `crate::api::documented()` document themselves: their
//! handlers carry `#[utoipa::path]` and their inputs and outputs derive `ToSchema`, and
//! [`Doc::generated`] completes each operation with what every route shares. The record
//! endpoints are generic over the table specs in [`xiansuo_app::records::schema`], so their
//! schemas, writable fields and list filters are generated from the same specs that drive the
//! record engine. The other areas are still described here with utoipa's builders, beside
//! their handlers in `crate::api`.

use crate::auth::SESSION_COOKIE;
use crate::BODY_LIMIT;
use serde_json::json;
use utoipa::openapi::path::{
    OperationBuilder, Parameter, ParameterBuilder, ParameterIn, ParameterStyle,
};
use utoipa::openapi::request_body::{RequestBody, RequestBodyBuilder};
use utoipa::openapi::schema::{AdditionalProperties, ArrayItems, SchemaType};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ArrayBuilder, ComponentsBuilder, Content, HeaderBuilder, HttpMethod, InfoBuilder, KnownFormat,
    LicenseBuilder, ObjectBuilder, OpenApi, OpenApiBuilder, Paths, Ref, RefOr, Required,
    ResponseBuilder, Schema, SchemaFormat, Tag, Type,
};
use xiansuo_app::records::schema::{CodeSet, Field, Kind, Table, TABLES};
use xiansuo_core::custom_field::RecordType;
use xiansuo_core::history::Channel;
use xiansuo_core::lead::{ActivityType, BUILTIN_SOURCES};
use xiansuo_core::schema::{codes, date, date_time, scalar, string, text, typed};

mod robots;

/// The OpenAPI document of the whole JSON API.
pub fn document() -> OpenApi {
    let mut doc = Doc::default();
    for table in TABLES {
        doc.records(table);
    }
    doc.lead_create_duplicates();
    doc.history();
    doc.activity_export();
    doc.webhook_deliveries();
    doc.generated(crate::api::documented().into_openapi());
    doc.robot_deliveries();
    doc.public_form();
    doc.operations();
    doc.errors();

    let mut components = ComponentsBuilder::new()
        .schemas_from_iter(doc.schemas)
        .security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token from `xiansuo token create --username NAME` or \
                         `POST /api/v1/tokens`, sent as `Authorization: Bearer TOKEN`.",
                    ))
                    .build(),
            ),
        )
        .security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "The web session set by `POST /api/v1/auth/login`. Writes (POST, PATCH, DELETE) \
                 with it must also send the session's CSRF token in the `X-CSRF-Token` header.",
            ))),
        );
    for failure in Failure::ALL {
        components = components.response(failure.name(), failure.response());
    }

    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Xiansuo API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(DESCRIPTION))
                .license(Some(
                    LicenseBuilder::new()
                        .name(env!("CARGO_PKG_LICENSE"))
                        .identifier(Some(env!("CARGO_PKG_LICENSE")))
                        .build(),
                )),
        )
        .paths(doc.paths)
        .components(Some(components.build()))
        // Either scheme will do; the public operations override this with an empty list.
        .security(Some([
            SecurityRequirement::new("bearer", Vec::<String>::new()),
            SecurityRequirement::new("session", Vec::<String>::new()),
        ]))
        .tags(Some(tags()))
        .build()
}

const DESCRIPTION: &str = "\
The JSON API of Xiansuo (线索), a self-hosted lead CRM: leads, accounts, contacts and \
opportunities with their follow-ups and history, and the users, teams, tokens and custom fields \
around them. Request and response bodies are JSON.

## Authentication

Send `Authorization: Bearer TOKEN` with a token printed by `xiansuo token create --username NAME` \
(or created with `POST /api/v1/tokens`). A token has a scope: `read_only` tokens may only read \
(any write is refused with 403), `read_write` tokens read and write what their user may but do \
nothing admin-only, `admin` tokens do all their user's role allows (`xiansuo token create` makes \
those). The web UI signs in with `POST /api/v1/auth/login` \
instead, which sets the `xs_session` cookie; a write (POST, PATCH, DELETE) authenticated by that \
cookie must also send the `csrf_token` from the login response in the `X-CSRF-Token` header. \
What a caller sees follows their role's data scope: a rep their own records, a manager their \
team's subtree of the org tree, an admin everything. A record outside it answers 404, as if it \
did not exist.

## Errors

Every error is JSON with a matching status: \
`{\"error\": {\"code\": \"invalid\", \"message\": \"phone: …\", \"field\": \"phone\"}}`. \
`code` is stable and meant for programs, `message` is meant for people, and `field` names the \
field at fault (else null). 400: malformed JSON, query string or id; 401: no valid token or \
session; 403: not allowed; 404: not found or not visible; 409: conflicts with the current state; \
413: body too large; 415: body not sent as `application/json`; 422: a field is invalid; \
429: too many failed sign-ins (see `Retry-After`). Bad input never causes a 5xx.

## Pagination

Record lists are keyset paginated: `limit` (1–500, default 50) records per page, in the order \
of `sort`. When more follow, the response's `next_cursor` is a string: pass it back as `cursor`, \
with the same filters and sort, for the next page. On the last page it is null. Pages stay \
consistent while records are added.";

/// The paths and schemas as they are being collected.
#[derive(Default)]
struct Doc {
    paths: Paths,
    schemas: Vec<(String, RefOr<Schema>)>,
}

impl Doc {
    fn schema(&mut self, name: impl Into<String>, schema: impl Into<RefOr<Schema>>) {
        self.schemas.push((name.into(), schema.into()));
    }

    /// Adds an operation with the responses every operation of its kind can end in, so that
    /// each call site names only the failures particular to it.
    fn add(&mut self, method: HttpMethod, path: &str, op: OperationBuilder, fails: &[Failure]) {
        self.add_operation(method, path, op.build(), fails);
    }

    /// The operations the handlers document (`crate::api::documented`), with their schemas.
    /// A status a handler lists as one of its failures answers with the shared error response
    /// of that status; but the 413 of a file upload says the upload's own limit, as its handler
    /// describes it.
    fn generated(&mut self, api: OpenApi) {
        if let Some(components) = api.components {
            self.schemas.extend(components.schemas);
        }
        for (path, item) in api.paths.paths {
            let operations = [
                (HttpMethod::Get, item.get),
                (HttpMethod::Post, item.post),
                (HttpMethod::Put, item.put),
                (HttpMethod::Patch, item.patch),
                (HttpMethod::Delete, item.delete),
            ];
            for (method, op) in operations {
                let Some(mut op) = op else { continue };
                let upload = is_upload(&op);
                let fails: Vec<Failure> = Failure::ALL
                    .into_iter()
                    // Left for `add_operation`, which reads its description.
                    .filter(|f| !(upload && *f == Failure::TooLarge))
                    .filter(|f| op.responses.responses.remove(f.status()).is_some())
                    .collect();
                self.add_operation(method, &path, op, &fails);
            }
        }
    }

    fn add_operation(
        &mut self,
        method: HttpMethod,
        path: &str,
        mut op: utoipa::openapi::path::Operation,
        fails: &[Failure],
    ) {
        let write = !matches!(method, HttpMethod::Get);
        let public = !path.starts_with("/api/v1/") || path == LOGIN;
        let mut failures = Vec::new();
        if public {
            // An empty list overrides the document-wide requirement: no credentials needed.
            op.security = Some(Vec::new());
        } else {
            failures.push(Failure::Unauthorized);
            if write {
                // Bearer tokens need no CSRF token, so the header is optional in the document.
                let csrf = ParameterBuilder::new()
                    .name("X-CSRF-Token")
                    .parameter_in(ParameterIn::Header)
                    .required(Required::False)
                    .description(Some(
                        "The session's CSRF token; required when authenticating with the session \
                         cookie",
                    ))
                    .schema(Some(string(
                        false,
                        "The `csrf_token` from the login response",
                    )))
                    .build();
                op.parameters.get_or_insert_with(Vec::new).push(csrf);
                failures.push(Failure::Forbidden);
            }
        }
        if path.contains("{id}") {
            let id_param = ParameterBuilder::new()
                .name("id")
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some("The id"))
                .schema(Some(id(false, "The id")))
                .build();
            op.parameters
                .get_or_insert_with(Vec::new)
                .insert(0, id_param);
            failures.extend([Failure::BadRequest, Failure::NotFound]);
        }
        let upload = is_upload(&op);
        if op.request_body.is_some() {
            failures.extend([Failure::BadRequest, Failure::TooLarge]);
            // A file upload takes any media type; only a JSON body can be sent as another.
            if !upload {
                failures.push(Failure::MediaType);
            }
        }
        failures.extend_from_slice(fails);
        for failure in failures {
            let response: RefOr<utoipa::openapi::Response> =
                match op.responses.responses.get(failure.status()) {
                    // An upload's own limit, with the body every error has.
                    Some(RefOr::T(own)) if upload && failure == Failure::TooLarge => {
                        json_response(&own.description, "Error").build().into()
                    }
                    _ => Ref::from_response_name(failure.name()).into(),
                };
            op.responses
                .responses
                .insert(failure.status().to_owned(), response);
        }
        self.paths.add_path_operation(path, vec![method], op);
    }

    /// The schemas and endpoints of one record type, all generated from its table spec.
    fn records(&mut self, table: &Table) {
        let one = table.schema;
        let lower = one.to_lowercase();
        let a = with_article(&lower);
        let many = capitalized(table.name);
        let tag = table.name;
        let base = format!("/api/v1/{}", table.name);
        let item = format!("{base}/{{id}}");

        self.schema(one, record_schema(table));
        self.schema(format!("{one}Input"), input_schema(table, true));
        self.schema(format!("{one}Patch"), input_schema(table, false));
        self.schema(
            format!("{one}List"),
            ObjectBuilder::new()
                .description(Some(format!("One page of {}", table.name)))
                .property("items", array(Ref::from_schema_name(one), "The records"))
                .property(
                    "next_cursor",
                    string(
                        true,
                        "Pass as `cursor` for the next page; null on the last page",
                    ),
                )
                .property(
                    "total",
                    scalar(
                        Type::Integer,
                        false,
                        "How many records match the filters on all pages; only with `count=true`",
                    ),
                )
                .required("items")
                .required("next_cursor"),
        );

        let defaults: Vec<String> = table
            .defaults
            .iter()
            .map(|(field, code)| format!("`{field}` defaults to `{code}`. "))
            .collect();
        self.add(
            HttpMethod::Get,
            &base,
            operation(&format!("list{many}"), tag, &format!("List {}", table.name))
                .description(Some(format!(
                    "The {} you may see, one page at a time (pass `next_cursor` back as \
                     `cursor`). Filters combine with AND; a comma-separated filter matches any \
                     of its values.\n\nCustom fields filter with `custom.KEY=value`, for example \
                     `custom.budget=5000`: numbers and booleans (`true`, `false`) compare as \
                     such, and a multi-select field matches when it holds the value.",
                    table.name
                )))
                .parameters(Some(list_parameters(table)))
                .response("200", json_response("One page", &format!("{one}List"))),
            &[Failure::BadRequest, Failure::Invalid],
        );
        self.add(
            HttpMethod::Get,
            &format!("{base}/export"),
            operation(
                &format!("export{many}"),
                tag,
                &format!("Export {} as CSV or XLSX", table.name),
            )
            .description(Some(format!(
                "Every {lower} the list with the same filters would show, as one file: CSV \
                 (UTF-8 with a byte order mark, so that Excel reads Chinese) or XLSX. The header \
                 row names the fields in your language; custom fields follow as `custom.KEY`; \
                 times are UTC. Text beginning with `=`, `+`, `-`, `@`, a tab or a carriage \
                 return is neutralised (a leading `'` in CSV, a text cell in XLSX), so a \
                 spreadsheet never runs it as a formula. Every export is recorded \
                 (`GET /api/v1/exports`)."
            )))
            .parameters(Some(export_parameters(table)))
            .response("200", export_file()),
            &[Failure::BadRequest, Failure::Invalid],
        );
        self.add(
            HttpMethod::Post,
            &base,
            operation(&format!("create{one}"), tag, &format!("Create {a}"))
                .description(Some(format!(
                    "The {lower} is owned by its creator unless the body gives `owner_id`. {}\
                     Unknown and read-only fields are refused, naming the accepted ones.",
                    defaults.concat()
                )))
                .request_body(Some(json_body(&format!("{one}Input"))))
                .response("201", json_response("Created", one)),
            &[Failure::Invalid],
        );
        self.add(
            HttpMethod::Get,
            &item,
            operation(&format!("get{one}"), tag, &format!("Get {a}"))
                .response("200", json_response("The record", one)),
            &[],
        );
        self.add(
            HttpMethod::Patch,
            &item,
            operation(&format!("update{one}"), tag, &format!("Change {a}"))
                .description(Some(
                    "Changes only the fields given; `null` clears a field. Every change is \
                     recorded in the history with who made it and through which channel.",
                ))
                .request_body(Some(json_body(&format!("{one}Patch"))))
                .response("200", json_response("The changed record", one)),
            &[Failure::Conflict, Failure::Invalid],
        );
        self.add(
            HttpMethod::Delete,
            &item,
            operation(&format!("delete{one}"), tag, &format!("Delete {a}"))
                .description(Some(format!(
                    "A soft delete: the {lower} leaves lists and reads but is kept. List deleted \
                     records with `?deleted=true`; `POST {item}/restore` brings one back."
                )))
                .response("204", ResponseBuilder::new().description("Deleted")),
            &[],
        );
        self.add(
            HttpMethod::Post,
            &format!("{item}/restore"),
            operation(&format!("restore{one}"), tag, &format!("Restore {a}"))
                .description(Some(format!(
                    "Brings back a deleted {lower}. One that is not deleted answers 404."
                )))
                .response("200", json_response("The restored record", one)),
            &[],
        );
        self.add(
            HttpMethod::Get,
            &format!("{item}/history"),
            operation(&format!("{lower}History"), tag, &format!("History of {a}"))
                .description(Some(
                    "Every change, oldest first: creation with the first values, one entry per \
                     changed field, deletes, restores and follow-ups.",
                ))
                .response("200", json_response("The history", "HistoryList")),
            &[],
        );
    }

    /// The answers of a lead create that the dedup policy refused (409, with the candidates
    /// as `GET /api/v1/leads/{id}/duplicates` describes them) or merged (200, with the lead it
    /// went into): the record operations are generated from the table specs and know nothing
    /// of dedup.
    fn lead_create_duplicates(&mut self) {
        self.schema(
            "DuplicateRefusal",
            response_object(
                "A lead refused by the block policy: `error.code` is `duplicate`",
                vec![
                    prop(
                        "error",
                        response_object(
                            "What went wrong",
                            vec![
                                prop("code", codes(["duplicate"], false, "Always `duplicate`")),
                                prop("message", string(false, "For people")),
                                prop("field", string(true, "Always null")),
                            ],
                        ),
                    ),
                    prop(
                        "candidates",
                        array(
                            Ref::from_schema_name("DuplicateCandidate"),
                            "The records it duplicates, strongest match first",
                        ),
                    ),
                ],
            ),
        );
        if let Some(create) = self
            .paths
            .paths
            .get_mut("/api/v1/leads")
            .and_then(|item| item.post.as_mut())
        {
            let responses = &mut create.responses.responses;
            responses.insert(
                "200".into(),
                json_response(
                    "Merged into the lead it duplicates (dedup policy merge): that lead, with \
                     `merged: true`",
                    "Lead",
                )
                .build()
                .into(),
            );
            responses.insert(
                "409".into(),
                json_response(
                    "Refused as a duplicate (dedup policy block), with the candidates",
                    "DuplicateRefusal",
                )
                .build()
                .into(),
            );
        }
    }

    /// A record's audit history, whose routes are generated from the table specs.
    fn history(&mut self) {
        let channels = [
            Channel::Ui,
            Channel::Api,
            Channel::Import,
            Channel::Rule,
            Channel::Job,
        ]
        .map(Channel::code);
        self.schema(
            "HistoryEntry",
            response_object(
                "One entry of a record's audit history",
                vec![
                    prop("id", int64(false, "Unique id")),
                    prop(
                        "action",
                        string(
                            false,
                            "What happened: create, update, delete, restore, activity, …",
                        ),
                    ),
                    prop(
                        "field",
                        string(true, "The changed field, for an update; else null"),
                    ),
                    prop("old_value", any("The value before, as JSON")),
                    prop(
                        "new_value",
                        any("The value after, as JSON; for a create, the first values"),
                    ),
                    prop("actor_id", int64(true, "The user who did it")),
                    prop("actor", string(true, "That user's username")),
                    prop(
                        "channel",
                        codes(channels, false, "Through what it happened"),
                    ),
                    prop("at", date_time(false, "When")),
                ],
            ),
        );
        self.schema("HistoryList", items("A record's history", "HistoryEntry"));
    }

    /// The export of follow-ups, which answers with a file as the exports of records do; the
    /// other follow-up routes document themselves (`crate::api`).
    fn activity_export(&mut self) {
        let record_types = [
            RecordType::Lead,
            RecordType::Account,
            RecordType::Contact,
            RecordType::Opportunity,
        ]
        .map(RecordType::code);
        self.add(
            HttpMethod::Get,
            "/api/v1/activities/export",
            operation(
                "exportActivities",
                "activities",
                "Export follow-ups as CSV or XLSX",
            )
            .description(Some(
                "Every follow-up logged on a lead, account, contact or opportunity that you \
                     can see (and that is not deleted), oldest first, with the kind and id of its \
                     record (记录类型, 记录编号), so that it can be imported elsewhere beside \
                     the records' own exports. CSV (UTF-8 with a byte order mark) or XLSX; times \
                     are UTC; formula-like text is neutralised. Recorded in `GET /api/v1/exports` \
                     as record type `activity`.",
            ))
            .parameters(Some(vec![
                format_parameter(),
                query(
                    "record_type",
                    "Only the follow-ups on this kind of record",
                    codes(record_types, false, "A record type"),
                )
                .build(),
                query(
                    "type",
                    "Only this kind of follow-up",
                    codes(ActivityType::ALL.iter().map(|t| t.code()), false, "A type"),
                )
                .build(),
            ]))
            .response("200", export_file()),
            &[Failure::BadRequest, Failure::Invalid],
        );
    }

    /// The public endpoint of web forms that visitors post to (`crate::form_pages`), whose
    /// answers are HTML pages or JSON; the admin API of forms documents itself.
    fn public_form(&mut self) {
        self.schema(
            "FormPost",
            ObjectBuilder::new()
                .description(Some(
                    "The form's fields by name (custom fields as custom.KEY), and optionally \
                     lang, consent, referrer, utm_source, utm_medium, utm_campaign, utm_term, \
                     utm_content. The hidden field website must stay empty. Other fields are \
                     kept on the submission.",
                ))
                .additional_properties(Some(AdditionalProperties::FreeForm(true))),
        );
        self.schema(
            "FormReceipt",
            response_object(
                "The post was taken",
                vec![
                    prop(
                        "submission_id",
                        int64(
                            false,
                            "The submission; a double submit answers the first one's",
                        ),
                    ),
                    prop(
                        "message",
                        string(false, "The thank-you message in the visitor's language"),
                    ),
                    prop(
                        "redirect_url",
                        string(true, "Where the form sends browsers"),
                    ),
                ],
            ),
        );

        let tag = "forms";
        let key = || {
            ParameterBuilder::new()
                .name("key")
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some("The form's public key"))
                .schema(Some(string(false, "A form key")))
                .build()
        };
        let too_many = ResponseBuilder::new()
            .description(format!(
                "`too_many_requests`: more than {} posts of this form from the address in a \
                 minute; wait `Retry-After` seconds",
                xiansuo_app::channels::forms::RATE_LIMIT
            ))
            .content(
                "application/json",
                Content::new(Some(Ref::from_schema_name("Error"))),
            )
            .header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(ObjectBuilder::new().schema_type(Type::Integer))
                    .description(Some("Seconds until the form may be posted again"))
                    .build(),
            );
        let body = RequestBodyBuilder::new()
            .required(Some(Required::True))
            .content(
                "application/json",
                Content::new(Some(Ref::from_schema_name("FormPost"))),
            )
            .content(
                "application/x-www-form-urlencoded",
                Content::new(Some(Ref::from_schema_name("FormPost"))),
            )
            .build();
        self.add(
            HttpMethod::Post,
            "/f/{key}",
            operation("postForm", tag, "Post a web form (public)")
                .description(Some(
                    "No credentials. A browser's form post (urlencoded, without Accept: \
                     application/json) is answered with HTML in the form's language: the \
                     thank-you page, a 303 to the form's redirect_url, or the form again with \
                     the problem marked (422). JSON is answered with JSON. The lead is created \
                     as by POST /api/v1/leads, with the form's source, campaign, owner and \
                     dedup policy. A filled honeypot, a double submit within 10 s and a post \
                     refused by the dedup policy are answered like a success.",
                ))
                .parameter(key())
                .request_body(Some(body))
                .response("201", json_response("Taken", "FormReceipt"))
                .response(
                    "303",
                    ResponseBuilder::new().description("Taken; go to the form's redirect_url"),
                )
                .response("429", too_many),
            &[],
        );
        // A browser's post is answered with a page, anything else with the JSON error.
        let operation = self
            .paths
            .paths
            .get_mut("/f/{key}")
            .and_then(|item| item.post.as_mut());
        if let Some(operation) = operation {
            for failure in [
                Failure::BadRequest,
                Failure::Forbidden,
                Failure::NotFound,
                Failure::TooLarge,
                Failure::MediaType,
                Failure::Invalid,
            ] {
                let page = ResponseBuilder::new()
                    .description(format!(
                        "`{}` as JSON, or as an HTML page in the form's language for a \
                         browser's urlencoded post",
                        failure.name()
                    ))
                    .content(
                        "application/json",
                        Content::new(Some(Ref::from_schema_name("Error"))),
                    )
                    .content(
                        "text/html",
                        Content::new(Some(string(false, "The page with the problem"))),
                    )
                    .build();
                operation
                    .responses
                    .responses
                    .insert(failure.status().to_owned(), RefOr::T(page));
            }
        }
    }

    fn operations(&mut self) {
        self.schema(
            "Health",
            response_object(
                "Health",
                vec![prop("status", string(false, "`ok`, or what is wrong"))],
            ),
        );
        let tag = "operations";
        self.add(
            HttpMethod::Get,
            "/healthz",
            operation("healthz", tag, "Liveness")
                .description(Some("Answers while the process runs."))
                .response("200", json_response("Alive", "Health")),
            &[],
        );
        self.add(
            HttpMethod::Get,
            "/readyz",
            operation("readyz", tag, "Readiness")
                .description(Some("Answers 200 when the database can be reached."))
                .response("200", json_response("Ready", "Health"))
                .response("503", json_response("Not ready", "Health")),
            &[],
        );
        self.add(
            HttpMethod::Get,
            "/api/openapi.json",
            operation("getOpenApi", tag, "This document").response(
                "200",
                ResponseBuilder::new()
                    .description("The OpenAPI 3.1 document")
                    .content("application/json", Content::new(Some(ObjectBuilder::new()))),
            ),
            &[],
        );
    }

    /// The delivery log's schemas of webhooks (the routes document themselves in
    /// `crate::api::webhooks`; robots share the attempt).
    fn webhook_deliveries(&mut self) {
        self.schema(
            "WebhookAttempt",
            response_object(
                "One attempt to deliver",
                vec![
                    prop("attempt", int64(false, "1 for the first")),
                    prop("at", date_time(false, "When it was made")),
                    prop(
                        "status_code",
                        int64(true, "The receiver's HTTP status; null without an answer"),
                    ),
                    prop(
                        "response_body",
                        string(true, "The start of the answer (1000 characters)"),
                    ),
                    prop(
                        "error",
                        string(true, "What went wrong without an answer (timeout, refused)"),
                    ),
                    prop("duration_ms", int64(false, "How long it took")),
                ],
            ),
        );
        self.schema(
            "WebhookDelivery",
            delivery_schema(
                "One event sent to one subscription",
                "Unique id; also the `X-Xiansuo-Delivery` header",
                ("webhook_id", "The subscription"),
                "The event, or `ping` for a test",
                "The JSON sent: `{\"id\", \"event\", \"occurred_at\", \"data\"}`",
            ),
        );
        self.schema(
            "WebhookDeliveryList",
            delivery_list_schema("WebhookDelivery"),
        );
    }

    /// The body every error response shares.
    fn errors(&mut self) {
        self.schema(
            "Error",
            response_object(
                "The body of every error response",
                vec![prop(
                    "error",
                    response_object(
                        "What went wrong",
                        vec![
                            prop(
                                "code",
                                string(false, "Stable, for programs: `invalid`, `not_found`, …"),
                            ),
                            prop("message", string(false, "For people: what to do about it")),
                            prop(
                                "field",
                                string(true, "The field or parameter at fault, for `invalid`"),
                            ),
                        ],
                    ),
                )],
            ),
        );
    }
}

const LOGIN: &str = "/api/v1/auth/login";

/// Whether an operation takes a file: a request body that is not JSON.
fn is_upload(op: &utoipa::openapi::path::Operation) -> bool {
    op.request_body
        .as_ref()
        .is_some_and(|body| !body.content.contains_key("application/json"))
}

/// The error responses, each a component response with the shared `Error` body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    TooLarge,
    MediaType,
    Invalid,
    TooManyLogins,
}

impl Failure {
    const ALL: [Failure; 9] = [
        Failure::BadRequest,
        Failure::Unauthorized,
        Failure::Forbidden,
        Failure::NotFound,
        Failure::Conflict,
        Failure::TooLarge,
        Failure::MediaType,
        Failure::Invalid,
        Failure::TooManyLogins,
    ];

    fn status(self) -> &'static str {
        match self {
            Failure::BadRequest => "400",
            Failure::Unauthorized => "401",
            Failure::Forbidden => "403",
            Failure::NotFound => "404",
            Failure::Conflict => "409",
            Failure::TooLarge => "413",
            Failure::MediaType => "415",
            Failure::Invalid => "422",
            Failure::TooManyLogins => "429",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Failure::BadRequest => "BadRequest",
            Failure::Unauthorized => "Unauthorized",
            Failure::Forbidden => "Forbidden",
            Failure::NotFound => "NotFound",
            Failure::Conflict => "Conflict",
            Failure::TooLarge => "PayloadTooLarge",
            Failure::MediaType => "UnsupportedMediaType",
            Failure::Invalid => "Invalid",
            Failure::TooManyLogins => "TooManyRequests",
        }
    }

    fn response(self) -> ResponseBuilder {
        let description = match self {
            Failure::BadRequest => {
                "`bad_request`: malformed JSON, an unreadable query string or a bad id in the \
                 path"
                    .to_owned()
            }
            Failure::Unauthorized => {
                "`unauthorized`: no valid token or session, or wrong credentials".to_owned()
            }
            Failure::Forbidden => "`forbidden`: the role or data scope does not allow it, or a \
                                   write authenticated by the session cookie lacks \
                                   `X-CSRF-Token`"
                .to_owned(),
            Failure::NotFound => {
                "`not_found`: no such record, or outside your data scope".to_owned()
            }
            Failure::Conflict => "`conflict`: clashes with the current state, such as a name \
                                  that is taken or a converted lead, which is read-only"
                .to_owned(),
            Failure::TooLarge => format!(
                "`payload_too_large`: the body is larger than {} KiB",
                BODY_LIMIT / 1024
            ),
            Failure::MediaType => {
                "`unsupported_media_type`: the body is not sent as `application/json`".to_owned()
            }
            Failure::Invalid => "`invalid`: a field or parameter is invalid; `error.field` names \
                                 it and `error.message` says what is accepted"
                .to_owned(),
            Failure::TooManyLogins => {
                "`too_many_requests`: too many failed sign-ins; wait `Retry-After` seconds"
                    .to_owned()
            }
        };
        let response = json_response(&description, "Error");
        if self == Failure::TooManyLogins {
            response.header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(ObjectBuilder::new().schema_type(Type::Integer))
                    .description(Some("Seconds until sign-in may be tried again"))
                    .build(),
            )
        } else {
            response
        }
    }
}

fn tags() -> Vec<Tag> {
    let tag = |name: &str, description: &str| {
        TagBuilder::new()
            .name(name)
            .description(Some(description))
            .build()
    };
    let mut tags: Vec<Tag> = TABLES
        .iter()
        .map(|table| {
            let description = match table.record_type {
                RecordType::Lead => {
                    "Leads (线索): people or companies that showed interest, not yet qualified"
                }
                RecordType::Account => "Accounts (客户): customer companies, or persons",
                RecordType::Contact => "Contacts (联系人): the people at accounts",
                RecordType::Opportunity => {
                    "Opportunities (销售机会): deals moving through the pipeline stages"
                }
            };
            tag(table.name, description)
        })
        .collect();
    tags.extend([
        tag("activities", "Follow-ups (跟进记录) logged on any record"),
        tag("users", "Users and their roles"),
        tag(
            "teams",
            "The org tree (组织架构): headquarters, regions, branches, teams",
        ),
        tag("tokens", "API tokens"),
        tag("custom-fields", "Admin-defined fields on records"),
        tag("exports", "The audit of who exported which records"),
        tag(
            "audit",
            "The audit log of settings changes and the login history (admins)",
        ),
        tag(
            "notifications",
            "The caller's own notifications (通知): new leads, due follow-ups, SLA and recycle \
             warnings",
        ),
        tag(
            "privacy",
            "A person's data on request (PIPL, GDPR): export everything held about them, erase it",
        ),
        tag(
            "webhooks",
            "Outbound webhooks: subscriptions to events, signed deliveries, the delivery log",
        ),
        tag(
            "robots",
            "Group robots of WeCom, DingTalk and Feishu: chosen events as chat messages",
        ),
        tag(
            "choices",
            "The lists of statuses, sources, outcomes and reasons, with Chinese and English labels",
        ),
        tag(
            "imports",
            "Imports of leads, accounts, contacts, opportunities and activities from CSV and XLSX files: upload, preview, start, progress, error report",
        ),
        tag(
            "qualification",
            "Qualification checklists (鉴定) and the items met on each lead",
        ),
        tag(
            "pipeline",
            "Pipeline stages (阶段), the weighted forecast and the kanban board",
        ),
        tag(
            "pools",
            "The public pool (公海): unowned leads that members claim, and the rules returning \
             neglected leads to it",
        ),
        tag(
            "follow-ups",
            "Follow-ups on time: due and overdue follow-ups, working hours, SLA rules",
        ),
        tag(
            "attachments",
            "Files kept with records: recordings, documents",
        ),
        tag(
            "scoring",
            "Lead scoring (评分): rules, tier thresholds, breakdowns, behaviour events",
        ),
        tag(
            "assignment",
            "Assignment rules (分配规则), manual and bulk assignment, availability",
        ),
        tag(
            "forms",
            "Web forms: their settings, the HTML to embed them, their submissions, and the \
             public endpoint visitors post to",
        ),
        tag(
            "reports",
            "Analytics (分析报表): leads by group, the funnel, speed to lead, activity per rep, \
             the sales cycle, cost per lead and acquisition cost, KPI targets",
        ),
        tag("auth", "Web sessions"),
        tag("operations", "Health checks and this document"),
    ]);
    tags
}

/// A record as the API serves it: every field, always present.
fn record_schema(table: &Table) -> ObjectBuilder {
    table.fields.iter().fold(
        ObjectBuilder::new().description(Some(format!(
            "{} as the API serves it",
            capitalized(&with_article(&table.schema.to_lowercase()))
        ))),
        |object, field| {
            let object = object
                .property(field.name, field_schema(table, field, false))
                .required(field.name);
            if field.kind != Kind::Phone {
                return object;
            }
            let verified = xiansuo_app::records::verified_name(field.name);
            object
                .property(
                    &verified,
                    scalar(Type::Boolean, true, "Whether the phone was read as a number (it has an E.164 form); false for a phone an import kept as entered because it could not read it; null without a phone"),
                )
                .required(&verified)
        },
    )
}

/// The writable fields of a record type: on create (`creating`) with its required fields, on
/// change with none required.
fn input_schema(table: &Table, creating: bool) -> ObjectBuilder {
    let description = if creating {
        format!("A new {}", table.schema.to_lowercase())
    } else {
        format!(
            "Changes to {}: only the fields given change; null clears",
            with_article(&table.schema.to_lowercase())
        )
    };
    let writable: Vec<&Field> = table.fields.iter().filter(|f| f.writable()).collect();
    let required: Vec<&str> = writable
        .iter()
        .filter(|f| creating && f.required)
        .map(|f| f.name)
        .collect();
    request_object(
        &description,
        writable
            .iter()
            .map(|f| (f.name, field_schema(table, f, true)))
            .collect(),
        &required,
    )
}

/// Whether a field can be null, in a record as served or in a request body.
fn nullable(table: &Table, field: &Field, input: bool) -> bool {
    match field.kind {
        Kind::Id => false,
        // Null is accepted and stored as an empty list or object, so it is never served.
        Kind::Tags | Kind::Custom => input,
        // Records in the public pool have no owner, but a request cannot give one to nobody.
        Kind::Owner => !input,
        // The record engine fills in the channel when no source is given.
        Kind::Code(CodeSet::Source) => false,
        // Stored as -1 before any model (so it sorts and pages), served as null.
        Kind::Probability => !input,
        // Sortable columns are NOT NULL (the keyset cursor relies on it), and so are required
        // fields and fields with a default.
        _ => !(field.required || field.sort || table.defaults.iter().any(|d| d.0 == field.name)),
    }
}

fn field_schema(table: &Table, field: &Field, input: bool) -> RefOr<Schema> {
    let null = nullable(table, field, input);
    let doc = field.doc;
    match field.kind {
        Kind::Id | Kind::Owner | Kind::UserRef | Kind::Ref(_) | Kind::Link(_) | Kind::PoolRef => {
            id(null, doc).into()
        }
        Kind::Int { min, max } => scalar(Type::Integer, null, doc)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(min))
            .maximum(Some(max))
            .into(),
        Kind::Text(max) => text(null, input && field.required, max, doc).into(),
        Kind::Phone | Kind::Email | Kind::Derived => string(null, doc).into(),
        Kind::Code(set) => code_schema(set, null, doc).into(),
        Kind::Tags => ArrayBuilder::new()
            .schema_type(typed(Type::Array, null))
            .items(ObjectBuilder::new().schema_type(Type::String))
            .description(Some(doc))
            .into(),
        Kind::Custom => scalar(Type::Object, null, doc)
            .additional_properties(Some(AdditionalProperties::FreeForm(true)))
            .into(),
        Kind::Money => scalar(Type::Number, null, doc).minimum(Some(0)).into(),
        Kind::Date => date(null, doc).into(),
        Kind::Timestamp => date_time(null, doc).into(),
        Kind::Probability => scalar(Type::Number, null, doc)
            .minimum(Some(0))
            .maximum(Some(1))
            .into(),
    }
}

/// The query parameters of a record list: paging, sorting, search and the common filters, then
/// one filter per filterable field.
fn list_parameters(table: &Table) -> Vec<Parameter> {
    let sorts: Vec<String> = table
        .fields
        .iter()
        .filter(|f| f.sort)
        .flat_map(|f| [f.name.to_owned(), format!("-{}", f.name)])
        .collect();
    let instant = |name: &str, doc: &str| {
        query(
            name,
            &format!("{doc}: a date (YYYY-MM-DD, a whole UTC day, inclusive) or an RFC 3339 time"),
            date_or_time("Date or time"),
        )
    };
    let mut params = vec![
        query(
            "limit",
            "How many records per page",
            scalar(Type::Integer, false, "Page size")
                .minimum(Some(1))
                .maximum(Some(500))
                .default(Some(json!(50))),
        ),
        query(
            "cursor",
            "The `next_cursor` of the previous page",
            record_cursor(),
        ),
        query(
            "sort",
            "The field to sort by; a leading `-` sorts descending. Ties are broken by id",
            codes(sorts.iter().map(String::as_str), false, "Sort order")
                .default(Some(json!("-created_at"))),
        ),
        query(
            "q",
            &search_description(table),
            string(false, "Search text"),
        ),
        comma_list(
            "team_id",
            "Only records owned by members of these teams or of any team below them",
            id(false, "A team id"),
        ),
        instant("created_from", "Created at or after"),
        instant("created_to", "Created at or before"),
        instant("updated_from", "Changed at or after"),
        instant("updated_to", "Changed at or before"),
        query(
            "deleted",
            "`true` lists deleted records instead of live ones",
            boolean("Deleted").default(Some(json!(false))),
        ),
        query(
            "count",
            "`true` adds `total`, how many records match on all pages",
            boolean("Count").default(Some(json!(false))),
        ),
    ];
    if table.record_type == RecordType::Opportunity {
        params.push(close_month_parameter());
    }
    if table.record_type == RecordType::Lead {
        params.push(query(
            "in_pool",
            "`true`: only leads waiting in a public pool (公海); `false`: only leads that are not",
            boolean("In a pool"),
        ));
        params.push(instant(
            "follow_up_before",
            "Only leads whose next planned follow-up (set by their latest follow-up) is before \
             this instant; with the current time, the overdue ones",
        ));
    }
    params.extend(
        table
            .fields
            .iter()
            .filter(|f| f.filter)
            .map(filter_parameter),
    );
    params.into_iter().map(ParameterBuilder::build).collect()
}

/// `close_month`: deals expected to close in one month.
/// One delivery of a delivery log (webhooks', robots') with every attempt; what differs
/// between the logs is the caller's.
fn delivery_schema(
    description: &str,
    id_doc: &str,
    owner: (&str, &str),
    event_doc: &str,
    request_doc: &str,
) -> Schema {
    response_object(
        description,
        vec![
            prop("id", int64(false, id_doc)),
            prop(owner.0, int64(false, owner.1)),
            prop("event", string(false, event_doc)),
            prop(
                "event_id",
                string(false, "The event's id, the same in every delivery of it"),
            ),
            prop(
                "state",
                codes(
                    ["pending", "succeeded", "failed"],
                    false,
                    "`pending`: an attempt is queued; `failed`: every attempt failed",
                ),
            ),
            prop("attempts", int64(false, "Attempts made")),
            prop(
                "next_attempt_at",
                date_time(true, "When the next attempt is due"),
            ),
            prop("status_code", int64(true, "The last attempt's HTTP status")),
            prop(
                "response_body",
                string(true, "The start of the last answer"),
            ),
            prop("error", string(true, "The last attempt's error")),
            prop("duration_ms", int64(true, "The last attempt's duration")),
            prop("created_at", date_time(false, "When the event was raised")),
            prop("delivered_at", date_time(true, "When the receiver took it")),
            prop("request_body", any(request_doc)),
            prop(
                "log",
                array(
                    Ref::from_schema_name("WebhookAttempt"),
                    "Every attempt, in order",
                ),
            ),
        ],
    )
}

/// A page of a delivery log whose deliveries are the schema `item`.
fn delivery_list_schema(item: &str) -> Schema {
    response_object(
        "One page of deliveries, newest first",
        vec![
            prop(
                "items",
                array(Ref::from_schema_name(item), "The deliveries"),
            ),
            prop(
                "next_cursor",
                string(
                    true,
                    "Pass as `cursor` for the next page; null on the last page",
                ),
            ),
        ],
    )
}

fn close_month_parameter() -> ParameterBuilder {
    query(
        "close_month",
        "Only deals whose `expected_close_date` falls in this month (YYYY-MM)",
        month("Month"),
    )
}

/// The list's filters without its paging, and the file format.
/// An export's answer: the file as an attachment.
fn export_file() -> ResponseBuilder {
    ResponseBuilder::new()
        .description("The file, as an attachment named after the records and the day")
        .content("text/csv", Content::new(Some(string(false, "CSV"))))
        .content(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Content::new(Some(
                string(false, "XLSX").format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary))),
            )),
        )
}

/// An export's `?format=`.
fn format_parameter() -> Parameter {
    query(
        "format",
        "The file format",
        codes(["csv", "xlsx"], false, "File format").default(Some(json!("csv"))),
    )
    .build()
}

fn export_parameters(table: &Table) -> Vec<Parameter> {
    let mut params = vec![format_parameter()];
    params.extend(
        list_parameters(table)
            .into_iter()
            .filter(|p| p.name != "limit" && p.name != "cursor"),
    );
    params
}

/// Describes `?q=` from the columns it searches, in the words a caller thinks in.
fn search_description(table: &Table) -> String {
    let ways: Vec<String> = table
        .search
        .iter()
        .map(|column| match *column {
            "name" => "any part of the name (a 2-character Chinese name such as 王芳 works, and \
                       finds 王芳芳 too)"
                .to_owned(),
            "phone_normalized" => {
                "3 or more digits of the phone number, in any format (`138 0013`, `+86 138…`)"
                    .to_owned()
            }
            "email_normalized" => "any part of the email address".to_owned(),
            other => format!("any part of the {other}"),
        })
        .collect();
    format!(
        "Text search, case-insensitive. Matches {}",
        ways.join("; or ")
    )
}

/// The list parameter for a filterable field, spelled the way the record engine parses it.
fn filter_parameter(field: &Field) -> ParameterBuilder {
    let doc = field.doc;
    match field.kind {
        Kind::Code(set) => comma_list(field.name, doc, code_schema(set, false, "A code")),
        Kind::Owner | Kind::Ref(_) | Kind::Id => comma_list(field.name, doc, id(false, "An id")),
        Kind::Tags => comma_list(field.name, doc, string(false, "A tag").min_length(Some(1))),
        Kind::Int { .. } => query(
            field.name,
            &format!(
                "{doc}. `N` exactly, `N..` at least, `..M` at most, `N..M` between (inclusive); \
                 empty for any"
            ),
            string(false, "A number or a range").pattern(Some(
                r"^(|-?[0-9]{1,18}|-?[0-9]{1,18}\.\.|\.\.-?[0-9]{1,18}|-?[0-9]{1,18}\.\.-?[0-9]{1,18})$",
            )),
        ),
        Kind::Probability => query(
            field.name,
            &format!(
                "{doc}. `P` exactly, `P..` at least, `..Q` at most, `P..Q` between (inclusive), \
                 P and Q from 0 to 1; empty for any"
            ),
            string(false, "A probability or a range").pattern(Some(
                r"^(|P|P\.\.|\.\.P|P\.\.P)$".replace('P', r"(0(\.[0-9]{1,6})?|1(\.0{1,6})?)"),
            )),
        ),
        _ => query(
            field.name,
            &format!("{doc}. Exact match"),
            string(false, "The value"),
        ),
    }
}

fn query(name: &str, doc: &str, schema: impl Into<RefOr<Schema>>) -> ParameterBuilder {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(doc))
        .schema(Some(schema))
}

/// A query parameter holding a comma-separated list, which matches any of its values.
fn comma_list(name: &str, doc: &str, item: impl Into<ArrayItems>) -> ParameterBuilder {
    // `style: form` with `explode: false` is how OpenAPI spells `?name=a,b,c`.
    query(
        name,
        &format!("{doc}. Comma-separated; matches any of the values"),
        // An empty list (`?name=`) is refused: leave the parameter out to match everything.
        ArrayBuilder::new().items(item).min_items(Some(1)),
    )
    .style(Some(ParameterStyle::Form))
    .explode(Some(false))
}

fn operation(id: &str, tag: &str, summary: &str) -> OperationBuilder {
    OperationBuilder::new()
        .operation_id(Some(id))
        .tag(tag)
        .summary(Some(summary))
}

fn json_body(schema: &str) -> RequestBody {
    RequestBodyBuilder::new()
        .required(Some(Required::True))
        .content(
            "application/json",
            Content::new(Some(Ref::from_schema_name(schema))),
        )
        .build()
}

fn json_response(description: &str, schema: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/json",
        Content::new(Some(Ref::from_schema_name(schema))),
    )
}

/// An object the API serves: every property is always present, possibly null.
fn response_object(description: &str, properties: Vec<(&str, RefOr<Schema>)>) -> Schema {
    properties
        .into_iter()
        .fold(
            ObjectBuilder::new().description(Some(description)),
            |object, (name, schema)| object.property(name, schema).required(name),
        )
        .into()
}

/// A request body: the API refuses properties it does not know, so the schema does too.
fn request_object(
    description: &str,
    properties: Vec<(&str, RefOr<Schema>)>,
    required: &[&str],
) -> ObjectBuilder {
    let object = properties.into_iter().fold(
        ObjectBuilder::new()
            .description(Some(description))
            .additional_properties(Some(AdditionalProperties::FreeForm(false))),
        |object, (name, schema)| object.property(name, schema),
    );
    required
        .iter()
        .fold(object, |object, name| object.required(*name))
}

/// `{"items": [...]}`: a whole list, not paginated.
fn items(description: &str, item: &str) -> Schema {
    response_object(
        description,
        vec![prop(
            "items",
            array(Ref::from_schema_name(item), description),
        )],
    )
}

/// The cursor of a record list: the sort value and id the previous page ended at, as URL-safe
/// base64 of a JSON array; only a cursor the server handed out reads back.
fn record_cursor() -> ObjectBuilder {
    string(false, "Opaque cursor").pattern(Some("^[A-Za-z0-9_-]+$"))
}

/// A month, `YYYY-MM`.
fn month(doc: &str) -> ObjectBuilder {
    string(false, doc).pattern(Some("^[0-9]{4}-(0[1-9]|1[0-2])$"))
}

/// A date (`YYYY-MM-DD`) or an RFC 3339 time.
fn date_or_time(doc: &str) -> RefOr<Schema> {
    utoipa::openapi::schema::AnyOfBuilder::new()
        .item(date(false, "A date"))
        .item(date_time(false, "A time"))
        .description(Some(doc))
        .into()
}

fn int64(nullable: bool, doc: &str) -> ObjectBuilder {
    scalar(Type::Integer, nullable, doc).format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
}

fn boolean(doc: &str) -> ObjectBuilder {
    scalar(Type::Boolean, false, doc)
}

fn any(doc: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::AnyValue)
        .description(Some(doc))
}

/// One property of an object schema. Ids are positive, so an integer `id` or `…_id` (and the
/// items of an `…_ids` list) gets `minimum: 1` unless its schema already says otherwise.
fn prop(name: &str, schema: impl Into<RefOr<Schema>>) -> (&str, RefOr<Schema>) {
    let mut schema = schema.into();
    if name == "id" || name.ends_with("_id") {
        positive_id(&mut schema);
    } else if name.ends_with("_ids") {
        if let RefOr::T(Schema::Array(list)) = &mut schema {
            if let ArrayItems::RefOrSchema(item) = &mut list.items {
                positive_id(item);
            }
        }
    }
    (name, schema)
}

/// Gives an integer schema without a lower bound the bound of an id, 1.
fn positive_id(schema: &mut RefOr<Schema>) {
    if let RefOr::T(Schema::Object(object)) = schema {
        let integer = match &object.schema_type {
            SchemaType::Type(t) => *t == Type::Integer,
            SchemaType::Array(types) => types.contains(&Type::Integer),
            SchemaType::AnyValue => false,
        };
        if integer && object.minimum.is_none() {
            object.minimum = Some(1.into());
        }
    }
}

/// An id: a positive whole number.
fn id(nullable: bool, doc: &str) -> ObjectBuilder {
    int64(nullable, doc).minimum(Some(1))
}

fn array(item: impl Into<ArrayItems>, doc: &str) -> ArrayBuilder {
    ArrayBuilder::new().items(item).description(Some(doc))
}

/// A code of `set`: one of its codes, or for the open set of sources, the shape of one.
fn code_schema(set: CodeSet, nullable: bool, doc: &str) -> ObjectBuilder {
    match set {
        // Admins add their own sources, so the built-in ones are only examples.
        CodeSet::Source => string(nullable, doc)
            .pattern(Some("^[a-z0-9_]{1,40}$"))
            .examples(BUILTIN_SOURCES.iter().map(|s| s.0)),
        // Admins edit the stages (GET /api/v1/pipeline/stages), so the defaults are examples.
        CodeSet::Stage => string(nullable, doc)
            .pattern(Some("^[a-z][a-z0-9_]{0,39}$"))
            .examples(set.codes()),
        _ => codes(set.codes().iter().map(String::as_str), nullable, doc),
    }
}

/// `lead` → `a lead`, `account` → `an account`.
fn with_article(noun: &str) -> String {
    if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        format!("an {noun}")
    } else {
        format!("a {noun}")
    }
}

/// `leads` → `Leads`, for operation ids such as `listLeads`.
fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use xiansuo_app::records::LIST_PARAMS;

    fn as_json() -> Value {
        serde_json::to_value(document()).unwrap()
    }

    /// The names of the query parameters of `GET path`.
    fn query_parameters(doc: &Value, path: &str) -> Vec<String> {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("GET {path} has no parameters"))
            .iter()
            .filter(|p| p["in"] == "query")
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn the_snapshot_in_docs_matches_the_document() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
        let actual = serde_json::to_string_pretty(&document()).unwrap() + "\n";
        if std::env::var("UPDATE_SNAPSHOTS").as_deref() == Ok("1") {
            std::fs::write(path, &actual).unwrap();
            return;
        }
        let expected = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            expected == actual,
            "docs/openapi.json differs from the document the server serves: rerun with \
             UPDATE_SNAPSHOTS=1 cargo test -p xiansuo-web --lib openapi, then review the diff"
        );
    }

    #[test]
    fn every_table_field_is_in_its_schemas_and_every_filter_is_a_list_parameter() {
        let doc = as_json();
        let schemas = &doc["components"]["schemas"];
        for table in TABLES {
            let record = &schemas[table.schema];
            let input = &schemas[format!("{}Input", table.schema)];
            let patch = &schemas[format!("{}Patch", table.schema)];
            for field in table.fields {
                assert!(
                    record["properties"].get(field.name).is_some(),
                    "{}.{} is missing from its schema",
                    table.schema,
                    field.name
                );
                assert_eq!(
                    input["properties"].get(field.name).is_some(),
                    field.writable(),
                    "{}Input and the writability of {} disagree",
                    table.schema,
                    field.name
                );
                assert_eq!(
                    patch["properties"].get(field.name).is_some(),
                    field.writable(),
                    "{}Patch and the writability of {} disagree",
                    table.schema,
                    field.name
                );
                let required = input["required"]
                    .as_array()
                    .is_some_and(|r| r.contains(&json!(field.name)));
                assert_eq!(required, field.required, "{}Input.required", table.schema);
            }
            assert!(patch.get("required").is_none(), "a patch requires nothing");

            let params = query_parameters(&doc, &format!("/api/v1/{}", table.name));
            let filters = table.fields.iter().filter(|f| f.filter).map(|f| f.name);
            for name in filters.chain(LIST_PARAMS.iter().copied()) {
                assert!(
                    params.iter().any(|p| p == name),
                    "?{name} is not a parameter of GET /api/v1/{}",
                    table.name
                );
            }
        }
    }

    #[test]
    fn every_reference_resolves_and_operation_ids_are_unique() {
        fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
            match value {
                Value::Object(map) => {
                    if let Some(Value::String(target)) = map.get("$ref") {
                        out.push(target);
                    }
                    map.values().for_each(|v| refs(v, out));
                }
                Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let doc = as_json();
        let mut targets = Vec::new();
        refs(&doc, &mut targets);
        for target in targets {
            let pointer = target.trim_start_matches('#');
            assert!(doc.pointer(pointer).is_some(), "{target} does not resolve");
        }

        let mut ids: Vec<&str> = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|item| item.as_object().unwrap().values())
            .map(|op| op["operationId"].as_str().unwrap())
            .collect();
        let count = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), count, "operation ids must be unique");
    }

    #[test]
    fn only_login_and_operations_endpoints_are_public() {
        let doc = as_json();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let public = op["security"] == json!([]);
                let expected = !path.starts_with("/api/v1/") || path == LOGIN;
                assert_eq!(public, expected, "{method} {path}");
            }
        }
    }
}
