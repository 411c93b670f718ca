//! The `prediction` part of the OpenAPI document: the win-prediction model, training it, and a
//! lead's probability with its reasons.

use super::{
    array, codes, date_time, int64, json_body, json_response, operation, prop, request_object,
    scalar, string, Doc, Failure,
};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{HttpMethod, RefOr, Schema};
use xiansuo_app::leads::prediction::model::Learner;
use xiansuo_app::leads::prediction::schedule::MAX_EVERY_DAYS;

impl Doc {
    pub(super) fn prediction(&mut self) {
        let number = |nullable: bool, doc: &str| scalar(Type::Number, nullable, doc);
        let learners =
            |nullable: bool, doc: &str| codes(Learner::ALL.iter().map(|l| l.code()), nullable, doc);
        let object = |doc: &str, props: Vec<(&str, RefOr<Schema>)>, required: &[&str]| {
            let built = props
                .into_iter()
                .fold(ObjectBuilder::new().description(Some(doc)), |o, (n, s)| {
                    o.property(n, s)
                });
            required.iter().fold(built, |o, n| o.required(*n))
        };
        self.schema(
            "PredictionModel",
            object(
                "The win-prediction model in use; only `model` (null) before any training",
                vec![
                    prop("model", learners(true, "The kept learner, chosen by cross-validated AUC; null before any training")),
                    prop("trained_at", date_time(false, "When it was trained")),
                    prop("trained_by", int64(true, "Who asked for the training; null from the command line")),
                    prop("leads", int64(false, "Leads trained on (those with an outcome)")),
                    prop("positives", int64(false, "Of them converted or won")),
                    prop("negatives", int64(false, "Of them disqualified or lost")),
                    prop("auc", number(false, "Cross-validated AUC (0.5 is chance, 1 perfect)")),
                    prop("top_decile_lift", number(false, "How many times the overall rate of wins the best-scored tenth has (out of fold)")),
                    prop("features", int64(false, "Columns the model reads")),
                    prop("comparison", array(
                        object("How one learner did on the same folds", vec![
                            prop("model", learners(false, "The learner")),
                            prop("auc", number(false, "Cross-validated AUC")),
                            prop("top_decile_lift", number(false, "Top-decile lift")),
                        ], &["model", "auc", "top_decile_lift"]),
                        "Each learner compared",
                    )),
                    prop("deciles", array(
                        object("A tenth of the outcomes ranked by probability, best first", vec![
                            prop("decile", int64(false, "1 for the best tenth")),
                            prop("examples", int64(false, "Leads in it")),
                            prop("positives", int64(false, "Of them converted or won")),
                            prop("lift", number(false, "Its rate of wins over the overall rate")),
                        ], &["decile", "examples", "positives", "lift"]),
                        "The lift chart, out of fold",
                    )),
                    prop("important_features", array(
                        object("A column the model leans on", vec![
                            prop("field", string(false, "The lead field (custom.KEY for a custom field; events and activities count behaviour before the outcome)")),
                            prop("value", string(true, "The value the column tests; null for a number")),
                            prop("importance", number(false, "Its share of the model's importance")),
                        ], &["field", "value", "importance"]),
                        "The most important columns, most first",
                    )),
                ],
                &["model"],
            ),
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/prediction",
            operation(
                "getPredictionModel",
                "leads",
                "The win-prediction model in use (admins)",
            )
            .response("200", json_response("The model", "PredictionModel")),
            &[Failure::Forbidden],
        );
        self.schema(
            "PredictionJob",
            object(
                "The queued training",
                vec![prop(
                    "job",
                    object(
                        "The background job `prediction.train`",
                        vec![
                            prop("id", int64(false, "The job's id")),
                            prop("kind", string(false, "prediction.train")),
                            prop("state", codes(["queued", "running"], false, "Its state")),
                            prop("created_at", date_time(false, "When it was queued")),
                        ],
                        &["id", "kind", "state", "created_at"],
                    ),
                )],
                &["job"],
            ),
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/prediction/train",
            operation("trainPredictionModel", "leads", "Train the win prediction again (admins)")
                .description(Some(
                    "Queues the job `prediction.train`: gradient-boosted trees and a regularised \
                     logistic regression are cross-validated on the leads' outcomes (converted or \
                     won against disqualified or lost), the better kept and calibrated, and every \
                     lead's `win_probability` refreshed. 409 when fewer than 20 leads have either \
                     outcome. A training already queued or running is answered instead of a new one.",
                ))
                .response("202", json_response("Queued", "PredictionJob")),
            &[Failure::Conflict],
        );
        let every_days = |doc: &str| {
            int64(false, doc)
                .minimum(Some(0))
                .maximum(Some(MAX_EVERY_DAYS))
        };
        self.schema(
            "PredictionSchedule",
            object(
                "How often the model is trained again on its own",
                vec![
                    prop("every_days", every_days("Days from one training to the next; 0 when it is trained only on request")),
                    prop("next_at", date_time(true, "When it is next trained; null before the first model or with retraining off")),
                ],
                &["every_days", "next_at"],
            ),
        );
        self.schema(
            "PredictionScheduleInput",
            request_object(
                "The retraining interval",
                vec![prop(
                    "every_days",
                    every_days(
                        "Days from one training to the next (1–365), or 0 to train only on request",
                    ),
                )],
                &["every_days"],
            ),
        );
        let path = "/api/v1/prediction/schedule";
        self.add(
            HttpMethod::Get,
            path,
            operation(
                "getPredictionSchedule",
                "leads",
                "How often the win prediction is trained again (admins)",
            )
            .description(Some(
                "Weekly unless an admin chose otherwise; only once a first model has been trained.",
            ))
            .response("200", json_response("The schedule", "PredictionSchedule")),
            &[Failure::Forbidden],
        );
        self.add(
            HttpMethod::Put,
            path,
            operation(
                "setPredictionSchedule",
                "leads",
                "Set how often the win prediction is trained again (admins)",
            )
            .description(Some(
                "Logged in the settings audit (`kind=prediction_schedule`).",
            ))
            .request_body(Some(json_body("PredictionScheduleInput")))
            .response("200", json_response("The schedule", "PredictionSchedule")),
            &[Failure::Forbidden, Failure::Invalid],
        );
        self.schema(
            "LeadPrediction",
            object(
                "A lead's win probability and why",
                vec![
                    prop("probability", number(true, "From 0 to 1; null before any model")),
                    prop("reasons", array(
                        object("A factor of the probability", vec![
                            prop("field", string(false, "The lead field (custom.KEY for a custom field)")),
                            prop("value", string(true, "The lead's value of it; null when it has none")),
                            prop("effect", number(false, "Its effect on the log-odds: positive raises the probability, negative lowers it")),
                            prop("text", string(false, "The factor in a sentence, in the caller's language")),
                        ], &["field", "value", "effect", "text"]),
                        "The strongest factors, strongest first (at most five)",
                    )),
                ],
                &["probability", "reasons"],
            ),
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/leads/{id}/prediction",
            operation(
                "getLeadPrediction",
                "leads",
                "A lead's win probability with its reasons",
            )
            .response("200", json_response("The prediction", "LeadPrediction")),
            &[],
        );
    }
}
