#include "trellis/safety_training/safety_training.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>

#include <linear.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

namespace trellis::safety_training {

namespace {

using Json = nlohmann::ordered_json;
using engine::SafetyClassifier;
using engine::SafetyPolicy;

std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path.string() + ": cannot read the file");
  std::ostringstream text;
  text << in.rdbuf();
  return std::move(text).str();
}

// One text as the trainer sees it.
struct Example {
  int category = -1;   // index into the policy's categories; -1 benign
  bool is_prose = false;
  bool hard_case = false;  // from a CorpusFile of hard cases: not in the budgets
  int fold = 0;
  int rule_category = -1;       // what the rules alone detect; -1 nothing
  bool rule_stood_down = false;  // a pattern matched but every match was stood down
  bool too_short = false;        // fewer words than the classifier answers alone
  std::vector<int> features;     // indices into the vocabulary, ascending
};

// liblinear's view of the examples: each row is its features (value 1/sqrt(n), times the
// feature's log-count ratio when those are used), then the bias feature, then the end marker.
class Problem {
 public:
  Problem(const std::vector<const Example*>& rows, int feature_count)
      : feature_count_(feature_count), labels_(rows.size()) {
    nodes_.reserve(rows.size() * 64);
    std::vector<std::size_t> starts;
    for (const Example* row : rows) {
      starts.push_back(nodes_.size());
      double value = row->features.empty() ? 0.0 : 1.0 / std::sqrt(static_cast<double>(row->features.size()));
      for (int feature : row->features) nodes_.push_back({feature + 1, value});
      nodes_.push_back({feature_count + 1, 1.0});  // the bias
      nodes_.push_back({-1, 0.0});
    }
    for (const auto& node : nodes_) unscaled_.push_back(node.value);
    for (std::size_t start : starts) rows_.push_back(&nodes_[start]);
    problem_.l = static_cast<int>(rows.size());
    problem_.n = feature_count + 1;
    problem_.x = rows_.data();
    problem_.y = labels_.data();
    problem_.bias = 1.0;
    rows_of_ = rows;
  }

  // Weights (by feature) and bias of "category or not", as the engine applies them to
  // unscaled features: a log-count ratio used in training is folded into the weights.
  std::pair<std::vector<double>, double> train_one(int category, double c, const TrainingOptions& options) {
    for (std::size_t i = 0; i < rows_of_.size(); ++i) labels_[i] = rows_of_[i]->category == category ? 1.0 : -1.0;
    std::vector<double> ratio(static_cast<std::size_t>(feature_count_), 1.0);
    if (options.log_count_ratios) ratio = log_count_ratios_of(category, options.log_count_smoothing);
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i].index >= 1 && nodes_[i].index <= feature_count_) {
        nodes_[i].value = unscaled_[i] * ratio[static_cast<std::size_t>(nodes_[i].index - 1)];
      }
    }
    parameter param{};
    param.solver_type = L2R_LR;  // trust-region Newton on the primal: deterministic, no random order
    param.eps = 0.01;
    param.C = c;
    param.p = 0.1;
    if (const char* error = check_parameter(&problem_, &param)) throw std::runtime_error(error);
    model* trained = train(&problem_, &param);
    int positive = trained->label[0] == 1 ? 0 : 1;
    std::vector<double> weights(static_cast<std::size_t>(problem_.n - 1));
    for (int f = 0; f + 1 < problem_.n; ++f) {
      weights[static_cast<std::size_t>(f)] = get_decfun_coef(trained, f + 1, positive) * ratio[static_cast<std::size_t>(f)];
    }
    // The bias is not a feature to get_decfun_coef (it answers 0 past nr_feature).
    double bias = get_decfun_bias(trained, positive);
    if (trained->nr_class < 2) {  // one label only: liblinear keeps a single class
      std::fill(weights.begin(), weights.end(), 0.0);
      bias = rows_of_.front()->category == category ? 10.0 : -10.0;
    }
    free_and_destroy_model(&trained);
    return {std::move(weights), bias};
  }

 private:
  // Wang and Manning's NBSVM scaling: log of how much more often a feature occurs in the
  // category's texts than in the others' (`smoothing` added to every count, each side
  // normalised to sum 1). A feature that tells the classes apart starts with a larger value,
  // so the regression needs less weight, and less evidence, to use it.
  std::vector<double> log_count_ratios_of(int category, double smoothing) const {
    std::vector<double> in(static_cast<std::size_t>(feature_count_), smoothing), out = in;
    for (const Example* row : rows_of_) {
      auto& counts = row->category == category ? in : out;
      for (int feature : row->features) counts[static_cast<std::size_t>(feature)] += 1.0;
    }
    const double in_total = std::accumulate(in.begin(), in.end(), 0.0);
    const double out_total = std::accumulate(out.begin(), out.end(), 0.0);
    std::vector<double> ratio(in.size());
    for (std::size_t f = 0; f < ratio.size(); ++f) ratio[f] = std::log((in[f] / in_total) / (out[f] / out_total));
    return ratio;
  }

  std::vector<feature_node> nodes_;
  std::vector<double> unscaled_;  // each node's value before any log-count ratio
  int feature_count_;
  std::vector<feature_node*> rows_;
  std::vector<double> labels_;
  std::vector<const Example*> rows_of_;
  problem problem_{};
};

double rounded(double value) { return std::round(value * 10000.0) / 10000.0; }

// Weights as the model file keeps them: rounded, small ones dropped.
struct Weights {
  std::vector<std::vector<std::pair<int, double>>> by_category;  // (feature, weight), ascending feature
  std::vector<double> biases;
};

Weights train_all(const std::vector<const Example*>& rows, std::size_t categories, int feature_count, double c,
                  const TrainingOptions& options) {
  Problem problem(rows, feature_count);
  Weights out;
  const double prune_below = options.prune_below;
  for (std::size_t k = 0; k < categories; ++k) {
    auto [weights, bias] = problem.train_one(static_cast<int>(k), c, options);
    std::vector<std::pair<int, double>> kept;
    for (std::size_t f = 0; f < weights.size(); ++f) {
      double w = rounded(weights[f]);
      if (std::abs(w) >= prune_below && w != 0.0) kept.emplace_back(static_cast<int>(f), w);
    }
    out.by_category.push_back(std::move(kept));
    out.biases.push_back(rounded(bias));
  }
  return out;
}

// The probabilities the engine would give (score_normalised): the same float weights and
// unit-length scaling, computed on the feature indices directly.
std::vector<double> probabilities(const Weights& weights, const Example& example,
                                  const std::vector<std::vector<float>>& dense) {
  std::vector<double> out;
  double scale = example.features.empty() ? 0.0 : 1.0 / std::sqrt(static_cast<double>(example.features.size()));
  for (std::size_t k = 0; k < weights.biases.size(); ++k) {
    double sum = 0;
    for (int f : example.features) sum += dense[k][static_cast<std::size_t>(f)];
    out.push_back(1.0 / (1.0 + std::exp(-(sum * scale + weights.biases[k]))));
  }
  return out;
}

std::vector<std::vector<float>> densify(const Weights& weights, int feature_count) {
  std::vector<std::vector<float>> dense;
  for (const auto& kept : weights.by_category) {
    dense.emplace_back(static_cast<std::size_t>(feature_count), 0.0f);
    for (auto [f, w] : kept) dense.back()[static_cast<std::size_t>(f)] = static_cast<float>(w);
  }
  return dense;
}

// Thresholds as engine::detect reads them.
struct Thresholds {
  std::vector<double> category;
  std::vector<double> rule;       // empty unless the model weighs the rules
  std::optional<double> crisis;   // SafetyClassifier::crisis_threshold
};

// The classifier's verdict under `t`, as engine::detect takes it; -1 for none.
int verdict(const std::vector<double>& p, const Thresholds& t) {
  return engine::classifier_verdict(
      p.size(), [&](std::size_t k) { return p[k]; }, [&](std::size_t k) { return t.category[k]; }, t.crisis);
}

bool classifier_sees(const Example& example, bool scores_stood_down) {
  return example.rule_category < 0 && (!example.rule_stood_down || scores_stood_down);
}

// What engine::detect answers for an example with probabilities `p`: -1 for nothing.
int decide(const Example& example, const std::vector<double>& p, const Thresholds& t, bool weighs_rules,
           bool scores_stood_down) {
  if (example.rule_category < 0 && example.too_short) return -1;
  if (weighs_rules) {
    int best = verdict(p, t);
    if (best >= 0 || example.rule_category < 0) return best;
    auto k = static_cast<std::size_t>(example.rule_category);
    return p[k] >= t.rule[k] ? example.rule_category : -1;
  }
  if (example.rule_category >= 0) return example.rule_category;
  return classifier_sees(example, scores_stood_down) ? verdict(p, t) : -1;
}

// Each category's rule_threshold: just under the out-of-fold probabilities of all but the
// allowed share of the rules' right matches.
std::vector<double> choose_rule_thresholds(const std::vector<Example>& examples,
                                           const std::vector<std::vector<double>>& oof, std::size_t categories,
                                           double max_dropped, double max_threshold) {
  std::vector<double> out(categories, 1e-9);
  for (std::size_t k = 0; k < categories; ++k) {
    std::vector<double> kept;
    for (std::size_t i = 0; i < examples.size(); ++i) {
      if (examples[i].category == static_cast<int>(k) && examples[i].rule_category == examples[i].category) {
        kept.push_back(oof[i][k]);
      }
    }
    if (kept.empty()) continue;
    std::sort(kept.begin(), kept.end());
    auto dropped = static_cast<std::size_t>(max_dropped * static_cast<double>(kept.size()));
    double below = dropped == 0 ? 0.0 : kept[dropped - 1];
    out[k] = std::clamp((below + kept[dropped]) / 2, 1e-9, max_threshold);
  }
  return out;
}

// A threshold between the m-th and (m+1)-th of a category's benign scores (`sorted`, highest
// first): m = 0 is above them all. Not rounded: at large C the probabilities of hard negatives
// crowd just under 1.
double threshold_below(const std::vector<double>& sorted, std::size_t m) {
  double above = m == 0 ? 1.0 : (m - 1 < sorted.size() ? sorted[m - 1] : 0.0);
  double below = m < sorted.size() ? sorted[m] : 0.0;
  return std::clamp((above + below) / 2, 1e-9, 1.0);
}

// Each category's threshold, spending the false-positive budgets where they buy the most
// recall: from above every benign score, the greedy step lowers one category's threshold
// past its next few benign scores (`sorted`, highest first), choosing the step that finds
// the largest share of that category's texts per share of a budget spent, until no step
// finds more and fits. On the sixteenth's files it found 18,674 of 22,260 crisis texts out of
// fold where giving every category the same number of benign texts found 18,425.
std::vector<double> thresholds_for_most_recall(const std::vector<Example>& examples,
                                               const std::vector<std::vector<double>>& oof,
                                               const std::vector<std::vector<double>>& sorted, Thresholds t,
                                               const TrainingOptions& options, bool weighs_rules, int benign,
                                               int prose) {
  const std::size_t categories = sorted.size();
  std::vector<int> positives(categories, 0);
  for (const auto& example : examples) {
    if (example.category >= 0) ++positives[static_cast<std::size_t>(example.category)];
  }
  // Examples by each category's probability, highest first: lowering a threshold changes
  // only the verdicts of those between its old and new value.
  std::vector<std::vector<std::size_t>> by_score(categories);
  for (std::size_t k = 0; k < categories; ++k) {
    for (std::size_t i = 0; i < examples.size(); ++i) by_score[k].push_back(i);
    std::stable_sort(by_score[k].begin(), by_score[k].end(),
                     [&](std::size_t a, std::size_t b) { return oof[a][k] > oof[b][k]; });
  }
  struct Tally {
    double recall = 0;  // summed over categories, each a share of its texts
    int false_positives = 0, prose_false_positives = 0;
  };
  auto tally_of = [&](std::size_t i, const Thresholds& at, Tally& tally, int sign) {
    const Example& example = examples[i];
    int answer = decide(example, oof[i], at, weighs_rules, options.scores_stood_down);
    if (example.category >= 0) {
      if (answer == example.category) {
        tally.recall += sign / static_cast<double>(positives[static_cast<std::size_t>(answer)]);
      }
    } else if (answer >= 0 && !example.hard_case) {
      (example.is_prose ? tally.prose_false_positives : tally.false_positives) += sign;
    }
  };
  const double fp_budget = options.max_false_positives * benign;
  const double prose_budget = options.max_prose_false_positives * prose;
  Tally total;
  t.category.assign(categories, 0.0);
  std::vector<std::size_t> rank(categories, 0), next_example(categories, 0);
  for (std::size_t k = 0; k < categories; ++k) t.category[k] = threshold_below(sorted[k], 0);
  for (std::size_t i = 0; i < examples.size(); ++i) tally_of(i, t, total, 1);
  constexpr std::size_t kLookahead = 25;
  for (;;) {
    double best_ratio = 0;
    std::size_t best_k = categories, best_steps = 0;
    Tally best_delta;
    for (std::size_t k = 0; k < categories; ++k) {
      Thresholds after = t;
      Tally delta;
      std::size_t e = next_example[k];
      for (std::size_t steps = 1; steps <= kLookahead && rank[k] + steps <= sorted[k].size(); ++steps) {
        after.category[k] = threshold_below(sorted[k], rank[k] + steps);
        for (; e < by_score[k].size() && oof[by_score[k][e]][k] >= after.category[k]; ++e) {
          tally_of(by_score[k][e], t, delta, -1);
          tally_of(by_score[k][e], after, delta, 1);
        }
        if (delta.recall <= 1e-12) continue;
        if (total.false_positives + delta.false_positives > fp_budget ||
            total.prose_false_positives + delta.prose_false_positives > prose_budget) {
          break;
        }
        double spent = std::max(delta.false_positives, 0) / std::max(fp_budget, 1.0) +
                       std::max(delta.prose_false_positives, 0) / std::max(prose_budget, 1.0);
        double ratio = delta.recall / std::max(spent, 1e-6);
        if (ratio > best_ratio) {
          best_ratio = ratio;
          best_k = k;
          best_steps = steps;
          best_delta = delta;
        }
      }
    }
    if (best_k == categories) break;
    Thresholds after = t;
    after.category[best_k] = threshold_below(sorted[best_k], rank[best_k] + best_steps);
    auto& e = next_example[best_k];
    for (; e < by_score[best_k].size() && oof[by_score[best_k][e]][best_k] >= after.category[best_k]; ++e) {}
    rank[best_k] += best_steps;
    t = std::move(after);
    total.recall += best_delta.recall;
    total.false_positives += best_delta.false_positives;
    total.prose_false_positives += best_delta.prose_false_positives;
  }
  return t.category;
}

// Thresholds that keep the detector's false positives within both budgets (labelled
// benign texts and prose): each category's threshold lies between its m-th and (m+1)-th
// highest benign score, for the largest m that fits.
Thresholds choose_thresholds(const std::vector<Example>& examples, const std::vector<std::vector<double>>& oof,
                             std::size_t categories, const TrainingOptions& options, bool weighs_rules) {
  Thresholds out;
  if (weighs_rules) out.rule = choose_rule_thresholds(examples, oof, categories, options.max_rule_matches_dropped,
                                      options.max_rule_threshold);
  int benign = 0, prose = 0;
  std::vector<std::size_t> scored;  // benign texts the model scores
  for (std::size_t i = 0; i < examples.size(); ++i) {
    if (examples[i].category >= 0 || examples[i].hard_case) continue;
    (examples[i].is_prose ? prose : benign)++;
    if (weighs_rules || classifier_sees(examples[i], options.scores_stood_down)) scored.push_back(i);
  }
  std::vector<std::vector<double>> sorted(categories);
  for (std::size_t k = 0; k < categories; ++k) {
    for (std::size_t i : scored) {
      if (!examples[i].is_prose) sorted[k].push_back(oof[i][k]);
    }
    std::sort(sorted[k].rbegin(), sorted[k].rend());
  }
  auto thresholds_for = [&](std::size_t m) {
    std::vector<double> t(categories);
    for (std::size_t k = 0; k < categories; ++k) t[k] = threshold_below(sorted[k], m);
    return t;
  };
  auto fits = [&](const Thresholds& t) {
    int false_positives = 0, prose_false_positives = 0;
    for (std::size_t i = 0; i < examples.size(); ++i) {
      if (examples[i].category >= 0 || examples[i].hard_case) continue;
      if (decide(examples[i], oof[i], t, weighs_rules, options.scores_stood_down) >= 0) {
        (examples[i].is_prose ? prose_false_positives : false_positives)++;
      }
    }
    return false_positives <= options.max_false_positives * benign &&
           prose_false_positives <= options.max_prose_false_positives * prose;
  };
  if (options.equal_rank_thresholds) {
    std::size_t m = 0;
    out.category = thresholds_for(0);
    while (m + 1 <= scored.size()) {
      Thresholds next = out;
      next.category = thresholds_for(m + 1);
      if (!fits(next)) break;
      out = std::move(next);
      ++m;
    }
  } else {
    out.category = thresholds_for_most_recall(examples, oof, sorted, out, options, weighs_rules, benign, prose);
  }
  if (!weighs_rules) return out;
  // Then the crisis threshold, lowered through the benign texts' sums of probabilities for
  // what the budgets have left: texts whose evidence is split between categories.
  std::vector<double> sums;
  for (std::size_t i : scored) {
    if (!examples[i].is_prose) sums.push_back(std::accumulate(oof[i].begin(), oof[i].end(), 0.0));
  }
  std::sort(sums.rbegin(), sums.rend());
  for (std::size_t n = 1; n <= sums.size(); ++n) {
    Thresholds next = out;
    next.crisis = std::max((sums[n - 1] + (n < sums.size() ? sums[n] : 0.0)) / 2, 1e-9);
    if (!fits(next)) break;
    out = std::move(next);
  }
  return out;
}

CrossValidation measure(const std::vector<Example>& examples, const std::vector<std::vector<double>>& oof,
                        const Thresholds& t, const SafetyPolicy& policy, double c, bool weighs_rules,
                        bool scores_stood_down) {
  const auto& thresholds = t.category;
  CrossValidation cv;
  cv.c = c;
  cv.crisis_threshold = t.crisis;
  for (std::size_t k = 0; k < policy.categories.size(); ++k) {
    cv.thresholds[policy.categories[k].id] = thresholds[k];
    if (weighs_rules) cv.rule_thresholds[policy.categories[k].id] = t.rule[k];
    cv.rules_recall[policy.categories[k].id] = {0, 0};
    cv.combined_recall[policy.categories[k].id] = {0, 0};
    cv.classifier_recall[policy.categories[k].id] = {0, 0};
  }
  for (std::size_t i = 0; i < examples.size(); ++i) {
    const Example& example = examples[i];
    int combined = decide(example, oof[i], t, weighs_rules, scores_stood_down);
    if (example.category >= 0) {
      const auto& id = policy.categories[static_cast<std::size_t>(example.category)].id;
      ++cv.rules_recall[id].second;
      ++cv.combined_recall[id].second;
      if (example.rule_category == example.category) ++cv.rules_recall[id].first;
      if (combined == example.category) ++cv.combined_recall[id].first;
      ++cv.classifier_recall[id].second;
      if (verdict(oof[i], t) == example.category) ++cv.classifier_recall[id].first;
    } else if (example.is_prose) {
      ++cv.prose;
      cv.rules_prose_false_positives += example.rule_category >= 0;
      cv.combined_prose_false_positives += combined >= 0;
    } else if (example.hard_case) {
      ++cv.hard_cases;
      cv.hard_case_false_positives += combined >= 0;
    } else {
      ++cv.benign;
      cv.classifier_false_positives += verdict(oof[i], t) >= 0;
      cv.rules_false_positives += example.rule_category >= 0;
      cv.combined_false_positives += combined >= 0;
    }
  }
  return cv;
}

std::string hex(const unsigned char* bytes, unsigned int size) {
  static const char* const kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 15];
  }
  return out;
}

void quiet(const char*) {}

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
  return hex(digest, size);
}

CorpusFile read_corpus(const std::filesystem::path& path, bool is_prose) {
  std::string bytes = read_bytes(path);
  CorpusFile file;
  file.path = path.string();
  file.sha256 = sha256_hex(bytes);
  file.is_prose = is_prose;
  std::istringstream in(bytes);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    if (is_prose) {
      file.texts.push_back({"benign", line, number});
      continue;
    }
    auto tab = line.find('\t');
    if (tab == std::string::npos) {
      throw std::runtime_error(file.path + ":" + std::to_string(number) +
                               ": no tab; a labelled line is \"label<TAB>text\" (use --prose for plain text)");
    }
    file.texts.push_back({line.substr(0, tab), line.substr(tab + 1), number});
  }
  return file;
}

namespace {

double mean_recall(const std::map<std::string, std::pair<int, int>>& recall) {
  double sum = 0;
  for (const auto& [category, counts] : recall) sum += counts.second ? double(counts.first) / counts.second : 0;
  return recall.empty() ? 0 : sum / static_cast<double>(recall.size());
}

}  // namespace

double CrossValidation::mean_classifier_recall() const { return mean_recall(classifier_recall); }
double CrossValidation::mean_combined_recall() const { return mean_recall(combined_recall); }

std::shared_ptr<const SafetyPolicy> rules_only(const SafetyPolicy& policy) {
  auto copy = std::make_shared<SafetyPolicy>(policy);
  copy->classifier = nullptr;
  return copy;
}

TrainedClassifier train_safety_classifier(const SafetyPolicy& policy, const std::vector<CorpusFile>& corpus,
                                          const TrainingOptions& options) {
  if (options.c_grid.empty() || options.folds < 2) throw std::runtime_error("need at least one C and two folds");
  if (options.log_count_ratios && !(options.log_count_smoothing > 0)) {
    throw std::runtime_error("the log-count smoothing must be above 0");
  }
  set_print_string_function(&quiet);
  auto rules = rules_only(policy);
  const std::size_t categories = policy.categories.size();
  const bool weighs_rules = std::find(options.feature_kinds.begin(), options.feature_kinds.end(),
                                      engine::SafetyFeatureKind::RuleMatches) != options.feature_kinds.end();
  const auto labelled_files = std::count_if(corpus.begin(), corpus.end(), [](const auto& f) { return !f.is_prose; });
  const bool folds_by_file = labelled_files >= options.folds;
  int labelled_index = 0;

  // The vocabulary, in sorted order, so that feature indices do not depend on the input order.
  std::vector<Example> examples;
  std::vector<std::vector<std::string>> features_of;
  std::map<std::string, int> vocabulary;
  for (const auto& file : corpus) {
    const int size = static_cast<int>(file.texts.size());
    const int file_fold = file.is_prose ? -1 : labelled_index++ % options.folds;
    for (int j = 0; j < size; ++j) {
      const auto& text = file.texts[static_cast<std::size_t>(j)];
      Example example;
      example.is_prose = file.is_prose;
      example.hard_case = file.hard_cases;
      // Whole files when there are enough: a writer's texts are all in one fold. Otherwise
      // contiguous blocks, so that paraphrases written side by side stay together.
      example.fold = folds_by_file && file_fold >= 0 ? file_fold : j * options.folds / std::max(size, 1);
      if (text.label != "benign") {
        const auto* category = policy.category(text.label);
        if (category == nullptr) {
          throw std::runtime_error(file.path + ":" + std::to_string(text.line) + ": \"" + text.label +
                                   "\" is not a category of the policy (nor \"benign\")");
        }
        example.category = static_cast<int>(category - policy.categories.data());
      }
      auto found = engine::match_safety_rules(*rules, text.text);
      if (found.match) {
        example.rule_category = static_cast<int>(policy.category(found.match->category) - policy.categories.data());
      }
      example.rule_stood_down = found.stood_down;
      const std::string normalised = engine::normalise_for_safety(text.text);
      example.too_short = engine::safety_word_count(normalised) < engine::kSafetyClassifierMinWords;
      features_of.push_back(engine::safety_features(
          normalised, options.feature_kinds,
          engine::rule_feature(found.match ? found.match->category : "", found.stood_down)));
      for (const auto& feature : features_of.back()) vocabulary.emplace(feature, 0);
      examples.push_back(std::move(example));
    }
  }
  std::vector<const std::string*> names;
  for (auto& [name, index] : vocabulary) {
    index = static_cast<int>(names.size());
    names.push_back(&name);
  }
  const int feature_count = static_cast<int>(names.size());
  for (std::size_t i = 0; i < examples.size(); ++i) {
    for (const auto& feature : features_of[i]) examples[i].features.push_back(vocabulary.at(feature));
    std::sort(examples[i].features.begin(), examples[i].features.end());
  }

  TrainedClassifier result;
  std::vector<Thresholds> best_thresholds_for_c;
  for (double c : options.c_grid) {
    std::vector<std::vector<double>> oof(examples.size());
    for (int fold = 0; fold < options.folds; ++fold) {
      std::vector<const Example*> rows;
      for (const auto& example : examples) {
        if (example.fold != fold) rows.push_back(&example);
      }
      auto weights = train_all(rows, categories, feature_count, c, options);
      auto dense = densify(weights, feature_count);
      for (std::size_t i = 0; i < examples.size(); ++i) {
        if (examples[i].fold == fold) oof[i] = probabilities(weights, examples[i], dense);
      }
    }
    auto thresholds = choose_thresholds(examples, oof, categories, options, weighs_rules);
    result.tried.push_back(measure(examples, oof, thresholds, policy, c, weighs_rules, options.scores_stood_down));
    best_thresholds_for_c.push_back(std::move(thresholds));
  }
  std::size_t best = 0;
  // A model that weighs the rules is the detector, and is chosen on what it finds; one that
  // adds to the rules on what it finds alone (CrossValidation::classifier_recall).
  auto merit = [&](const CrossValidation& cv) {
    return weighs_rules ? cv.mean_combined_recall() : cv.mean_classifier_recall();
  };
  for (std::size_t i = 1; i < result.tried.size(); ++i) {
    if (merit(result.tried[i]) > merit(result.tried[best]) + 1e-12) best = i;
  }
  result.chosen = result.tried[best];
  const double c = options.c_grid[best];
  const auto& thresholds = best_thresholds_for_c[best];

  std::vector<const Example*> all;
  for (const auto& example : examples) all.push_back(&example);
  auto weights = train_all(all, categories, feature_count, c, options);

  Json model;
  model["format"] = engine::kSafetyClassifierFormat;
  model["features"] = Json::array();
  for (auto kind : options.feature_kinds) model["features"].push_back(std::string(engine::name_of(kind)));
  model["scores_stood_down"] = weighs_rules || options.scores_stood_down;
  if (thresholds.crisis) model["crisis_threshold"] = *thresholds.crisis;
  Json training;
  training["trained_with"] = "trellis safety train";
  training["liblinear"] = liblinear_version;
  training["solver"] = "L2R_LR, one-vs-rest";
  if (options.log_count_ratios) {
    training["features_scaled_by"] = "log-count ratios (NBSVM), folded into the weights";
    training["log_count_smoothing"] = options.log_count_smoothing;
  }
  training["c"] = c;
  training["folds"] = options.folds;
  training["folds_hold"] = folds_by_file ? "whole files" : "blocks of each file";
  training["pruned_below"] = options.prune_below;
  training["max_false_positives"] = options.max_false_positives;
  training["max_prose_false_positives"] = options.max_prose_false_positives;
  training["thresholds"] =
      options.equal_rank_thresholds ? "the same number of benign texts above each" : "the most recall per budget spent";
  if (weighs_rules) {
    training["max_rule_matches_dropped"] = options.max_rule_matches_dropped;
    training["max_rule_threshold"] = options.max_rule_threshold;
  }
  training["corpus"] = Json::array();
  for (const auto& file : corpus) {
    training["corpus"].push_back(
        {{"file", file.path}, {"sha256", file.sha256}, {"texts", file.texts.size()}, {"prose", file.is_prose}});
    if (file.hard_cases) training["corpus"].back()["hard_cases"] = true;
  }
  Json cv;
  for (const auto& [id, counts] : result.chosen.rules_recall) {
    cv["recall"][id] = {{"rules", std::to_string(counts.first) + "/" + std::to_string(counts.second)},
                        {"rules_and_classifier", std::to_string(result.chosen.combined_recall.at(id).first) + "/" +
                                                     std::to_string(counts.second)},
                        {"classifier_alone", std::to_string(result.chosen.classifier_recall.at(id).first) + "/" +
                                                 std::to_string(counts.second)}};
  }
  cv["false_positives"] = {
      {"rules", std::to_string(result.chosen.rules_false_positives) + "/" + std::to_string(result.chosen.benign)},
      {"rules_and_classifier",
       std::to_string(result.chosen.combined_false_positives) + "/" + std::to_string(result.chosen.benign)}};
  if (result.chosen.hard_cases > 0) {
    cv["hard_case_false_positives"] = std::to_string(result.chosen.hard_case_false_positives) + "/" +
                                      std::to_string(result.chosen.hard_cases);
  }
  cv["prose_false_positives"] = {
      {"rules", std::to_string(result.chosen.rules_prose_false_positives) + "/" + std::to_string(result.chosen.prose)},
      {"rules_and_classifier",
       std::to_string(result.chosen.combined_prose_false_positives) + "/" + std::to_string(result.chosen.prose)}};
  training["cross_validation"] = cv;
  model["training"] = training;
  model["categories"] = Json::array();
  std::set<int> kept;
  for (std::size_t k = 0; k < categories; ++k) {
    Json category;
    category["id"] = policy.categories[k].id;
    category["bias"] = weights.biases[k];
    category["threshold"] = thresholds.category[k];
    if (weighs_rules) category["rule_threshold"] = thresholds.rule[k];
    Json by_name = Json::object();
    for (auto [f, w] : weights.by_category[k]) {
      by_name[*names[static_cast<std::size_t>(f)]] = w;
      kept.insert(f);
    }
    category["weights"] = std::move(by_name);
    model["categories"].push_back(std::move(category));
  }
  result.features = kept.size();
  result.json = model.dump(1) + "\n";
  return result;
}

double CorpusScores::recall_of(const std::string& category) const {
  auto found = recall.find(category);
  if (found == recall.end() || found->second.second == 0) return 0;
  return static_cast<double>(found->second.first) / found->second.second;
}

double CorpusScores::false_positive_rate() const {
  return benign == 0 ? 0 : static_cast<double>(false_positives) / benign;
}

CorpusScores score_corpus(const SafetyPolicy& policy, const CorpusFile& file) {
  CorpusScores scores;
  for (const auto& category : policy.categories) {
    scores.recall[category.id] = {0, 0};
    scores.responded[category.id] = 0;
  }
  for (const auto& text : file.texts) {
    auto match = engine::detect(policy, text.text);
    if (text.label == "benign") {
      ++scores.benign;
      if (match) {
        ++scores.false_positives;
        scores.false_positive_texts.push_back(text.text + "  [" + match->category + ", " +
                                              std::string(engine::name_of(match->detector)) + "]");
      }
    } else {
      auto& [hit, total] = scores.recall[text.label];
      ++total;
      if (match) ++scores.responded[text.label];
      if (match && match->category == text.label) ++hit;
      else scores.misses.push_back("[" + text.label + "] " + text.text +
                                   (match ? "  (answered as " + match->category + ")" : ""));
    }
  }
  return scores;
}

std::vector<std::string> stale_corpus_files(std::string_view classifier_json, const std::filesystem::path& root) {
  std::vector<std::string> problems;
  Json model = Json::parse(classifier_json, nullptr, /*allow_exceptions=*/false);
  if (model.is_discarded() || !model.contains("training") || !model["training"].contains("corpus") ||
      !model["training"]["corpus"].is_array()) {
    return {"the classifier records no training corpus"};
  }
  for (const auto& entry : model["training"]["corpus"]) {
    if (!entry.is_object() || !entry.contains("file") || !entry["file"].is_string() || !entry.contains("sha256")) {
      problems.push_back("a corpus entry without \"file\" and \"sha256\"");
      continue;
    }
    auto file = entry["file"].get<std::string>();
    std::string bytes;
    try {
      bytes = read_bytes(root / file);
    } catch (const std::exception&) {
      problems.push_back(file + ": cannot be read");
      continue;
    }
    if (sha256_hex(bytes) != entry["sha256"]) problems.push_back(file + ": changed since the classifier was trained");
  }
  return problems;
}

}  // namespace trellis::safety_training
