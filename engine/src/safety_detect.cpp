#include "trellis/engine/safety.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <set>
#include <string>
#include <vector>
#include <utility>

namespace trellis::engine {

namespace {

// Typographic characters phones insert, folded so that "don’t" reads as "don't".
constexpr std::array<std::pair<std::string_view, std::string_view>, 12> kTypographic{{
    {"\xE2\x80\x98", "'"}, {"\xE2\x80\x99", "'"}, {"\xE2\x80\x9A", "'"}, {"\xE2\x80\x9B", "'"},
    {"\xE2\x80\x9C", "\""}, {"\xE2\x80\x9D", "\""}, {"\xE2\x80\x9E", "\""}, {"\xE2\x80\x9F", "\""},
    {"\xE2\x80\xA6", "."}, {"\xC2\xA0", " "}, {"\xE2\x80\x93", " "}, {"\xE2\x80\x94", " "},
}};

// Chat spellings and common misspellings, word by word, as people type them in a
// hurry. Whole words only; the right-hand side is what the patterns are written for.
const std::map<std::string, std::string, std::less<>>& spellings() {
  static const std::map<std::string, std::string, std::less<>> kSpellings{
      {"kms", "kill myself"}, {"kys", "kill yourself"}, {"ctb", "suicide"},
      {"unalive", "kill"}, {"unalived", "killed"}, {"unaliving", "killing myself"}, {"sewerslide", "suicide"},
      {"suicde", "suicide"}, {"sucide", "suicide"}, {"suiside", "suicide"}, {"suicid", "suicide"},
      {"suecide", "suicide"}, {"sucidal", "suicidal"}, {"suicdal", "suicidal"}, {"suisidal", "suicidal"},
      {"suicidel", "suicidal"}, {"suicidle", "suicidal"},
      {"myslef", "myself"}, {"mysefl", "myself"}, {"mysel", "myself"}, {"meself", "myself"}, {"myseld", "myself"},
      {"mself", "myself"}, {"selfharm", "self harm"}, {"selfharming", "self harming"}, {"sh", "self harm"},
      {"od", "overdose"}, {"oding", "overdosing"}, {"wanna", "want to"}, {"wana", "want to"}, {"gonna", "going to"},
      {"gunna", "going to"}, {"gotta", "got to"}, {"tryna", "trying to"}, {"u", "you"}, {"ur", "your"},
      {"r", "are"}, {"rn", "right now"}, {"ppl", "people"}, {"bc", "because"}, {"cuz", "because"},
      {"coz", "because"}, {"idk", "i don't know"}, {"idc", "i don't care"}, {"ded", "dead"},
      {"kil", "kill"}, {"kiled", "killed"}, {"kiling", "killing"}, {"killin", "killing"}, {"hurtin", "hurting"},
      {"cuttin", "cutting"}, {"dyin", "dying"}, {"livin", "living"}, {"bf", "boyfriend"}, {"gf", "girlfriend"},
      {"hubby", "husband"}, {"dv", "domestic violence"}, {"pls", "please"}, {"plz", "please"}, {"tho", "though"},
      {"nite", "night"}, {"tonite", "tonight"}, {"im", "i'm"}, {"ive", "i've"}, {"dont", "don't"},
      {"cant", "can't"}, {"didnt", "didn't"}, {"isnt", "isn't"}, {"wouldnt", "wouldn't"},
      {"couldnt", "couldn't"}, {"doesnt", "doesn't"}, {"wasnt", "wasn't"}, {"arent", "aren't"},
      {"youre", "you're"}, {"theyre", "they're"}, {"thats", "that's"}, {"whats", "what's"},
      {"everyones", "everyone's"}, {"ill", "i'll"}, {"id", "i'd"}, {"hes", "he's"}, {"shes", "she's"},
      {"anymore", "any more"}, {"wont", "won't"}, {"ya", "you"}, {"em", "them"}, {"mum", "mom"},
      {"mam", "mom"}, {"mommy", "mom"}, {"daddy", "dad"}, {"pils", "pills"},
      // Added in the recall pass (heldout2's misses and the brief's list of chat spellings).
      {"wnt", "want"}, {"wnat", "want"}, {"wnna", "want to"}, {"wan2", "want to"}, {"wanto", "want to"},
      {"gona", "going to"}, {"gnna", "going to"}, {"finna", "going to"}, {"imma", "i'm going to"},
      {"ima", "i'm going to"}, {"kll", "kill"}, {"kilme", "kill me"}, {"dieing", "dying"},
      {"suicidial", "suicidal"}, {"sucicidal", "suicidal"}, {"suicidaly", "suicidal"}, {"suisde", "suicide"},
      {"suicied", "suicide"}, {"myslf", "myself"}, {"myselfe", "myself"}, {"mysellf", "myself"},
      {"selfharmed", "self harmed"}, {"selfharms", "self harms"}, {"shing", "self harming"},
      {"cuting", "cutting"}, {"cutin", "cutting"}, {"burnin", "burning"}, {"harmin", "harming"},
      {"overdos", "overdose"}, {"oded", "overdosed"},
      {"pillz", "pills"}, {"abt", "about"}, {"tmrw", "tomorrow"}, {"tmr", "tomorrow"}, {"2nite", "tonight"},
      {"2night", "tonight"}, {"stepmum", "stepmom"}, {"stepmam", "stepmom"}, {"mums", "moms"},
      {"bfs", "boyfriend's"}, {"gfs", "girlfriend's"}, {"nobodys", "nobody's"}, {"noone", "no one"},
      // Added in the generalisation pass: doubled or dropped letters and apostrophes people skip.
      {"cutt", "cut"}, {"cutted", "cut"}, {"cutts", "cuts"}, {"wirst", "wrist"}, {"wirsts", "wrists"},
      {"overdoes", "overdose"}, {"overdossed", "overdosed"}, {"hangin", "hanging"}, {"jumpin", "jumping"},
      {"stabbin", "stabbing"}, {"beatin", "beating"}, {"hittin", "hitting"}, {"chokin", "choking"},
      {"hed", "he'd"}, {"theyd", "they'd"}, {"itll", "it'll"}, {"2day", "today"}, {"2morrow", "tomorrow"},
      {"tomorow", "tomorrow"}, {"tommorow", "tomorrow"}, {"tommorrow", "tomorrow"}, {"2moro", "tomorrow"},
      // Added in the second recall pass (heldout4): apostrophe forms and dropped apostrophes.
      {"sh'd", "self harmed"}, {"sh'ed", "self harmed"}, {"sh'ing", "self harming"}, {"theres", "there's"},
      {"theyll", "they'll"}, {"youll", "you'll"}, {"dads", "dad's"}, {"tbh", "to be honest"},
      {"n", "and"}, {"nd", "and"}, {"b4", "before"}, {"tryin", "trying"}, {"goin", "going"}, {"thinkin", "thinking"}, {"wantin", "wanting"},
      // Scots, Irish and northern English as typed (heldout40 and heldout53): "-nae" for "-n't",
      // and the dropped "g" of the words the patterns are written for.
      {"dinnae", "don't"}, {"dinna", "don't"}, {"didnae", "didn't"}, {"cannae", "can't"}, {"canna", "can't"},
      {"wouldnae", "wouldn't"}, {"couldnae", "couldn't"}, {"isnae", "isn't"}, {"wasnae", "wasn't"},
      {"willnae", "won't"}, {"doesnae", "doesn't"}, {"havenae", "haven't"}, {"hasnae", "hasn't"},
      {"shouldnae", "shouldn't"}, {"tae", "to"}, {"masel", "myself"}, {"masell", "myself"}, {"hissel", "himself"},
      {"hersel", "herself"}, {"wi", "with"}, {"aff", "off"}, {"doon", "down"}, {"oot", "out"}, {"hame", "home"},
      {"heid", "head"}, {"morra", "tomorrow"}, {"ye", "you"}, {"yer", "your"}, {"nae", "no"}, {"naebody", "nobody"},
      {"a'm", "i'm"}, {"bein", "being"}, {"feelin", "feeling"}, {"hopin", "hoping"}, {"drivin", "driving"},
      {"needin", "needing"}, {"keepin", "keeping"}, {"gettin", "getting"}, {"draggin", "dragging"},
      {"startin", "starting"}, {"sayin", "saying"}, {"doin", "doing"}, {"takin", "taking"}, {"makin", "making"},
      {"plannin", "planning"}, {"lookin", "looking"}, {"writin", "writing"}, {"leavin", "leaving"},
      {"givin", "giving"}, {"endin", "ending"}, {"sleepin", "sleeping"}, {"wakin", "waking"},
      {"stockpilin", "stockpiling"}, {"savin", "saving"}, {"hidin", "hiding"},
      {"smashin", "smashing"}, {"punchin", "punching"}, {"batterin", "battering"}, {"slappin", "slapping"},
      {"threatenin", "threatening"}, {"followin", "following"}, {"watchin", "watching"}, {"walkin", "walking"},
  };
  return kSpellings;
}

// Letters repeated for emphasis ("diiiie", "pleeease") squeezed to one; the few
// words the patterns need with a double letter are put back by spellings().
std::string squeeze(std::string word) {
  std::string out;
  for (std::size_t i = 0; i < word.size();) {
    std::size_t run = 1;
    while (i + run < word.size() && word[i + run] == word[i]) ++run;
    out.append(run >= 3 ? 1 : run, word[i]);
    i += run;
  }
  return out;
}

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// "my self", as some people type it, is "myself" to the patterns ("killing my self"), but not
// where "self" starts a compound ("my self harm", "my self esteem").
void join_split_reflexives(std::vector<std::string>& tokens) {
  static const std::set<std::string, std::less<>> kCompounds{
      "harm", "harming", "harmed", "harmer", "esteem", "worth", "care", "confidence", "respect", "doubt",
      "image", "talk", "compassion", "help", "love", "control", "awareness", "hatred", "loathing", "pity",
      "sabotage", "medicate", "medicating", "conscious", "belief", "defence", "defense", "discipline",
      "destruction", "destructive", "injury", "injuring", "isolation", "reflection", "acceptance",
      "portrait", "employed", "made", "taught", "aware", "centred", "centered", "absorbed", "critical"};
  static const std::map<std::string, std::string, std::less<>> kJoined{
      {"my", "myself"}, {"your", "yourself"}, {"him", "himself"}, {"her", "herself"}, {"it", "itself"}};
  std::vector<std::string> out;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    auto joined = out.empty() ? kJoined.end() : kJoined.find(out.back());
    if (tokens[i] == "self" && joined != kJoined.end() &&
        (i + 1 == tokens.size() || !kCompounds.contains(tokens[i + 1]))) {
      out.back() = joined->second;
      continue;
    }
    out.push_back(std::move(tokens[i]));
  }
  tokens = std::move(out);
}

}  // namespace

std::string normalise_for_safety(std::string_view text) {
  std::string ascii;
  ascii.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    bool replaced = false;
    if (static_cast<unsigned char>(text[i]) >= 0x80) {
      for (const auto& [from, to] : kTypographic) {
        if (text.substr(i, from.size()) == from) {
          ascii += to;
          i += from.size();
          replaced = true;
          break;
        }
      }
      if (!replaced) {
        ascii += ' ';  // other non-ASCII (emoji, accents): a word break
        ++i;
        continue;
      }
    } else {
      ascii += static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
      ++i;
    }
  }

  std::vector<std::string> tokens;
  auto push_mark = [&](const char* mark) {
    if (tokens.empty() && std::string_view(mark) != "\"") return;
    if (!tokens.empty() && tokens.back() == mark && std::string_view(mark) != "\"") return;
    tokens.emplace_back(mark);
  };
  std::string word;
  auto flush = [&] {
    if (word.empty()) return;
    std::string squeezed = squeeze(word);
    // The squeezed word may need a double letter back ("kil" -> "kill").
    auto& table = spellings();
    if (auto found = table.find(squeezed); found != table.end()) {
      tokens.push_back(found->second);
    } else if (auto original = table.find(word); original != table.end()) {
      tokens.push_back(original->second);
    } else if (auto stem = table.find(std::string_view(squeezed).substr(0, squeezed.size() - 2));
               squeezed.size() > 2 && squeezed.ends_with("'s") && stem != table.end() &&
               stem->second.find_first_of(" '") == std::string::npos) {
      tokens.push_back(stem->second + "'s");  // a possessive of a table word: "mum's" -> "mom's"
    } else {
      tokens.push_back(squeezed);
    }
    word.clear();
  };
  for (std::size_t i = 0; i < ascii.size(); ++i) {
    char c = ascii[i];
    if (is_word_char(c)) {
      word += c;
    } else if (c == '\'' && !word.empty() && i + 1 < ascii.size() && is_word_char(ascii[i + 1])) {
      word += c;  // an apostrophe inside a word: "don't"
    } else {
      flush();
      if (c == '.' || c == '!' || c == '?' || c == '\n') push_mark(".");
      else if (c == ',' || c == ';' || c == ':' || c == '(' || c == ')') push_mark(",");
      else if (c == '"' || c == '\'') push_mark("\"");
    }
  }
  flush();
  join_split_reflexives(tokens);
  std::string out;
  for (const auto& token : tokens) {
    if (!out.empty()) out += ' ';
    out += token;
  }
  return out;
}

namespace {

struct Span {
  std::size_t begin = 0, end = 0;
};

std::vector<Span> occurrences(const RE2& regex, std::string_view text) {
  std::vector<Span> spans;
  std::size_t from = 0;
  re2::StringPiece match;
  while (from <= text.size() &&
         regex.Match(re2::StringPiece(text.data(), text.size()), from, text.size(), RE2::UNANCHORED, &match, 1)) {
    auto begin = static_cast<std::size_t>(match.data() - text.data());
    spans.push_back({begin, begin + match.size()});
    from = begin + std::max<std::size_t>(match.size(), 1);
  }
  return spans;
}

// The sentence around [begin, end): between the nearest " . " marks.
std::string_view sentence_of(std::string_view text, Span span) {
  auto start = text.rfind(" . ", span.begin);
  start = start == std::string_view::npos ? 0 : start + 3;
  auto stop = text.find(" . ", span.end);
  if (stop == std::string_view::npos) stop = text.size();
  return text.substr(start, stop - start);
}

// Up to six words just before `begin`, cut at the start of the clause, so that
// "I'm not okay, I want to die" does not read "not" as negating "want to die".
std::string_view words_before(std::string_view text, std::size_t begin) {
  std::string_view before = text.substr(0, begin);
  while (!before.empty() && before.back() == ' ') before.remove_suffix(1);
  std::size_t start = before.size();
  for (int words = 0; words < 6 && start > 0; ++words) {
    auto space = before.rfind(' ', start - 1);
    std::size_t word_start = space == std::string_view::npos ? 0 : space + 1;
    std::string_view word = before.substr(word_start, start - word_start);
    if (word == "." || word == "," || word == "\"" || word == "but" || word == "and" || word == "so" ||
        word == "because" || word == "though") {
      break;
    }
    start = word_start;
    if (space == std::string_view::npos) break;
    start = space;  // points at the space before the word just taken
  }
  while (start < before.size() && before[start] == ' ') ++start;
  return before.substr(start);
}

bool inside_quotes(std::string_view text, Span span) {
  std::size_t quotes = 0;
  for (std::size_t i = 0; i < span.begin; ++i) {
    if (text[i] == '"') ++quotes;
  }
  return quotes % 2 == 1;
}

bool found(const std::shared_ptr<const RE2>& regex, std::string_view text) {
  return regex && RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *regex);
}

// The classifier's answer (classifier_verdict) among the scores; nullptr for none.
const SafetyScore* classifier_answer(const SafetyClassifier& classifier, const std::vector<SafetyScore>& scores) {
  int k = classifier_verdict(
      scores.size(), [&](std::size_t c) { return scores[c].probability; },
      [&](std::size_t c) { return scores[c].threshold; }, classifier.crisis_threshold);
  return k < 0 ? nullptr : &scores[static_cast<std::size_t>(k)];
}

// The classifier's turn in a model that does not weigh the rules: no rule matched (or
// every match was stood down, `stood_down`). classifier_answer decides.
std::optional<SafetyMatch> classify(const SafetyPolicy& policy, const std::string& text, bool stood_down) {
  if (!policy.classifier || (stood_down && !policy.classifier->scores_stood_down)) return std::nullopt;
  if (safety_word_count(text) < kSafetyClassifierMinWords) return std::nullopt;
  auto scores = score_normalised(*policy.classifier, text);
  const SafetyScore* best = classifier_answer(*policy.classifier, scores);
  if (!best) return std::nullopt;
  return SafetyMatch{best->category, "classifier", SafetyDetector::Classifier, best->probability};
}

// A model that weighs the rules decides on every text, told what the rules found
// (`rule`, or `stood_down`). Over a category's threshold (or the crisis threshold) is a
// detection, the most likely category winning. Otherwise a rule's match still stands unless
// its category's probability is under the lower rule_threshold: only where the model, having
// seen the match, gives its category a small chance ("I'd jump off a cliff for my kids").
std::optional<SafetyMatch> weigh(const SafetyPolicy& policy, const std::string& text,
                                 const std::optional<SafetyMatch>& rule, bool stood_down) {
  const auto& classifier = *policy.classifier;
  if (!rule && safety_word_count(text) < kSafetyClassifierMinWords) return std::nullopt;
  auto scores = score_normalised(classifier, text, rule_feature(rule ? rule->category : "", stood_down));
  if (const SafetyScore* best = classifier_answer(classifier, scores)) {
    if (rule && rule->category == best->category) {
      return SafetyMatch{rule->category, rule->pattern, SafetyDetector::Rules, best->probability};
    }
    return SafetyMatch{best->category, "classifier", SafetyDetector::Classifier, best->probability};
  }
  if (!rule) return std::nullopt;
  for (std::size_t c = 0; c < scores.size(); ++c) {
    if (scores[c].category != rule->category) continue;
    const auto& bar = classifier.categories[c].rule_threshold;
    if (bar && scores[c].probability < *bar) return std::nullopt;
    return SafetyMatch{rule->category, rule->pattern, SafetyDetector::Rules, scores[c].probability};
  }
  return rule;  // a category the model has no weights for: the rules alone decide it
}

// What the rules alone find: the first category (in priority order) with a match the
// context does not stand down; sets `stood_down` when patterns matched but every match was.
std::optional<SafetyMatch> match_rules(const SafetyPolicy& policy, const std::string& text, bool& stood_down) {
  stood_down = false;
  std::vector<int> hits;
  if (!policy.matcher || !policy.matcher->Match(text, &hits)) return std::nullopt;
  std::sort(hits.begin(), hits.end());

  std::vector<Span> idiom_spans;
  std::vector<int> idiom_hits;
  if (!policy.idiom_matcher) {  // a policy built by hand: scan every idiom
    for (std::size_t i = 0; i < policy.idioms.size(); ++i) idiom_hits.push_back(static_cast<int>(i));
  }
  if (!policy.idiom_matcher || policy.idiom_matcher->Match(text, &idiom_hits)) {
    for (int hit : idiom_hits) {
      auto spans = occurrences(*policy.idioms[static_cast<std::size_t>(hit)].regex, text);
      idiom_spans.insert(idiom_spans.end(), spans.begin(), spans.end());
    }
  }
  auto stands_down = [&](Span span) {
    std::string_view view(text);
    // An idiom ("I burnt my hand on the oven") does not stand a match down when the same
    // sentence says the act was meant ("... on purpose", "deliberately").
    if (!found(policy.deliberate, sentence_of(view, span))) {
      for (const auto& idiom : idiom_spans) {
        if (idiom.begin < span.end && span.begin < idiom.end) return true;
      }
    }
    auto before = words_before(view, span.begin);
    if (found(policy.negation, before) && !found(policy.not_negation, before)) return true;
    auto sentence = sentence_of(view, span);
    if (inside_quotes(view, span) && found(policy.quoting, sentence)) return true;
    if (found(policy.resolved, sentence) && !found(policy.ongoing, sentence)) return true;
    return false;
  };

  std::optional<std::pair<std::size_t, std::size_t>> best;  // (category, pattern index)
  for (int hit : hits) {
    auto index = static_cast<std::size_t>(hit);
    std::size_t category = policy.category_of_pattern[index];
    if (best && best->first <= category) continue;
    const auto& pattern = policy.categories[category].patterns[policy.index_in_category[index]];
    for (Span span : occurrences(*pattern.regex, text)) {
      if (!stands_down(span)) {
        best = std::pair{category, policy.index_in_category[index]};
        break;
      }
    }
  }
  if (!best) {
    stood_down = true;
    return std::nullopt;
  }
  const auto& category = policy.categories[best->first];
  return SafetyMatch{category.id, category.patterns[best->second].source, SafetyDetector::Rules, 0};
}

}  // namespace

std::optional<SafetyMatch> detect(const SafetyPolicy& policy, std::string_view raw) {
  if (!policy.matcher) return std::nullopt;
  std::string text = normalise_for_safety(raw);
  bool stood_down = false;
  auto rule = match_rules(policy, text, stood_down);
  if (policy.classifier && policy.classifier->weighs_rules()) return weigh(policy, text, rule, stood_down);
  if (rule) return rule;
  return classify(policy, text, stood_down);
}

SafetyRuleVerdict match_safety_rules(const SafetyPolicy& policy, std::string_view raw) {
  SafetyRuleVerdict verdict;
  verdict.match = match_rules(policy, normalise_for_safety(raw), verdict.stood_down);
  return verdict;
}

std::string_view name_of(SafetyDetector detector) {
  return detector == SafetyDetector::Rules ? "rules" : "classifier";
}

const SafetyRegion& SafetyPolicy::region(std::string_view id) const {
  for (const auto& candidate : regions) {
    if (!id.empty() && candidate.id == id) return candidate;
  }
  for (const auto& candidate : regions) {
    if (candidate.id == default_region) return candidate;
  }
  return regions.front();  // the compiler guarantees default_region names one
}

const SafetyCategory* SafetyPolicy::category(std::string_view id) const {
  for (const auto& candidate : categories) {
    if (candidate.id == id) return &candidate;
  }
  return nullptr;
}

}  // namespace trellis::engine
