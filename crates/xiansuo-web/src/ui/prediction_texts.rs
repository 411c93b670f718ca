//! The strings of the win prediction in the web UI — the probability and reasons on a lead's
//! page and the model's settings page — in Chinese and English.

/// The win prediction's strings of one language.
pub(crate) struct PredictionTexts {
    pub title: &'static str,
    pub lead_title: &'static str,
    pub no_model: &'static str,
    pub intro: &'static str,
    pub trained_at: &'static str,
    pub model: &'static str,
    pub leads: &'static str,
    pub positives: &'static str,
    pub negatives: &'static str,
    pub auc: &'static str,
    pub auc_hint: &'static str,
    pub top_decile_lift: &'static str,
    pub lift_chart: &'static str,
    pub lift_chart_hint: &'static str,
    pub decile: &'static str,
    pub important: &'static str,
    pub comparison: &'static str,
    /// The button before any model exists, and once one does.
    pub train_first: &'static str,
    pub train: &'static str,
    pub queued: &'static str,
    pub schedule: &'static str,
    pub every_days: &'static str,
    pub schedule_hint: &'static str,
    pub next_at: &'static str,
    pub save_schedule: &'static str,
    pub schedule_saved: &'static str,
    pub learners: [(&'static str, &'static str); 2],
}

impl PredictionTexts {
    /// A learner's name.
    pub fn learner(&self, code: &str) -> &'static str {
        self.learners
            .iter()
            .find(|(c, _)| *c == code)
            .map_or("", |(_, label)| label)
    }
}

pub(crate) fn prediction_texts(locale: &str) -> &'static PredictionTexts {
    if locale == "en" {
        &EN
    } else {
        &ZH
    }
}

/// The win prediction's name (the settings menu's entry), in the language of `locale`.
pub(crate) fn title(locale: &str) -> &'static str {
    prediction_texts(locale).title
}

static ZH: PredictionTexts = PredictionTexts {
    title: "赢单预测",
    lead_title: "赢单概率",
    no_model: "还没有预测模型。",
    intro: "用已有结果训练：已转化或赢单的线索为正例，无效或输单的为负例；只读取结果之前已知的信息。梯度提升树与逻辑回归在相同的分层折上交叉验证，保留更好的一个并校准概率。",
    trained_at: "训练时间",
    model: "模型",
    leads: "训练线索",
    positives: "已转化/赢单",
    negatives: "无效/输单",
    auc: "AUC（交叉验证）",
    auc_hint: "0.5 相当于随机，1 为完美排序",
    top_decile_lift: "前 10% 提升度",
    lift_chart: "提升度图",
    lift_chart_hint: "按预测概率从高到低分成十组，每组的赢单率是整体的几倍（交叉验证）",
    decile: "组",
    important: "最重要的特征",
    comparison: "模型比较",
    train_first: "训练模型",
    train: "重新训练",
    queued: "已排队训练，完成后所有线索的赢单概率会更新。",
    schedule: "自动重新训练",
    every_days: "间隔天数",
    schedule_hint: "从上次训练起每隔几天自动重新训练一次（1–365），0 表示只在点击按钮时训练。",
    next_at: "下次训练",
    save_schedule: "保存",
    schedule_saved: "已保存。",
    learners: [
        ("gradient_boosted_trees", "梯度提升树"),
        ("logistic_regression", "逻辑回归"),
    ],
};

static EN: PredictionTexts = PredictionTexts {
    title: "Win prediction",
    lead_title: "Win probability",
    no_model: "No prediction model yet.",
    intro: "Trained on past outcomes: leads converted or won are positive, disqualified or lost negative; only what was known before the outcome is read. Gradient-boosted trees and logistic regression are cross-validated on the same stratified folds; the better is kept and its probabilities calibrated.",
    trained_at: "Trained",
    model: "Model",
    leads: "Leads trained on",
    positives: "Converted or won",
    negatives: "Disqualified or lost",
    auc: "AUC (cross-validated)",
    auc_hint: "0.5 is chance, 1 a perfect ranking",
    top_decile_lift: "Top-decile lift",
    lift_chart: "Lift chart",
    lift_chart_hint: "Leads ranked by probability in ten groups, best first: how many times the overall win rate each group has (cross-validated)",
    decile: "Group",
    important: "Most important features",
    comparison: "Models compared",
    train_first: "Train the model",
    train: "Train again",
    queued: "Training is queued; every lead's win probability is refreshed when it is done.",
    schedule: "Automatic retraining",
    every_days: "Every (days)",
    schedule_hint: "Days from one training to the next (1–365); 0 trains only when you press the button.",
    next_at: "Next training",
    save_schedule: "Save",
    schedule_saved: "Saved.",
    learners: [
        ("gradient_boosted_trees", "Gradient-boosted trees"),
        ("logistic_regression", "Logistic regression"),
    ],
};
