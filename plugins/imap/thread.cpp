// imap — THREAD (see thread.h), RFC 5256 section 3.
#include "thread.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "gmime_support.h"

namespace portico::imap {

namespace {

// A container of RFC 5256's REFERENCES algorithm: a message (or none: a dummy), its parent and
// its children.
struct Node {
  int message = -1;  // index into the messages; -1: a dummy
  int parent = -1;
  std::vector<int> children;
  bool gone = false;  // pruned
};

class Forest {
 public:
  explicit Forest(const std::vector<ThreadInput>& messages) : messages_(messages) {}

  int add(int message) {
    nodes_.push_back(Node{message, -1, {}, false});
    return static_cast<int>(nodes_.size()) - 1;
  }
  Node& operator[](int i) { return nodes_[static_cast<std::size_t>(i)]; }
  std::size_t size() const { return nodes_.size(); }

  // Whether `a` is `b` or one of its ancestors.
  bool above(int a, int b) {
    for (std::size_t steps = 0; b >= 0 && steps <= nodes_.size(); ++steps) {
      if (a == b) return true;
      b = (*this)[b].parent;
    }
    return false;
  }
  void unlink(int child) {
    int p = (*this)[child].parent;
    if (p < 0) return;
    auto& siblings = (*this)[p].children;
    siblings.erase(std::remove(siblings.begin(), siblings.end(), child), siblings.end());
    (*this)[child].parent = -1;
  }
  void link(int parent, int child) {
    unlink(child);
    (*this)[child].parent = parent;
    (*this)[parent].children.push_back(child);
  }

  // The sent date a node sorts by: its message's, or a dummy's first child's.
  std::pair<std::int64_t, int> when(int n) {
    for (std::size_t steps = 0; steps <= nodes_.size(); ++steps) {
      const Node& node = (*this)[n];
      if (node.message >= 0)
        return {messages_[static_cast<std::size_t>(node.message)].date, node.message};
      if (node.children.empty()) break;
      n = node.children.front();
    }
    return {0, -1};
  }
  void sort_siblings(std::vector<int>& list) {
    std::stable_sort(list.begin(), list.end(), [this](int a, int b) { return when(a) < when(b); });
  }
  // Sorts every set of siblings, the deepest first (a dummy sorts by its first child).
  void sort_all(std::vector<int>& roots) {
    std::vector<int> order;  // pre-order; sorted in reverse, so children before parents
    std::vector<int> todo(roots.begin(), roots.end());
    while (!todo.empty()) {
      int n = todo.back();
      todo.pop_back();
      order.push_back(n);
      for (int c : (*this)[n].children)
        todo.push_back(c);
    }
    for (auto it = order.rbegin(); it != order.rend(); ++it)
      sort_siblings((*this)[*it].children);
    sort_siblings(roots);
  }

  // "n1 n2 (sub)(sub)": a chain of single children, then the branches.
  std::string members(int n, std::size_t depth) {
    std::string s;
    for (;;) {
      const Node& node = (*this)[n];
      if (node.message >= 0) {
        if (!s.empty()) s += ' ';
        s += std::to_string(messages_[static_cast<std::size_t>(node.message)].number);
      }
      if (node.children.size() == 1) {
        n = node.children.front();
        continue;
      }
      if (node.children.size() > 1) {
        if (!s.empty()) s += ' ';
        if (depth >= kMaxThreadDepth) {  // too deep: the rest hangs here flat
          s += "(" + flat(n) + ")";
        } else {
          for (int c : node.children)
            s += "(" + members(c, depth + 1) + ")";
        }
      }
      return s;
    }
  }

 private:
  // Every message below `n`, in pre-order, one after another.
  std::string flat(int n) {
    std::string s;
    std::vector<int> todo((*this)[n].children.rbegin(), (*this)[n].children.rend());
    while (!todo.empty()) {
      int c = todo.back();
      todo.pop_back();
      if ((*this)[c].message >= 0) {
        if (!s.empty()) s += ' ';
        s += std::to_string(messages_[static_cast<std::size_t>((*this)[c].message)].number);
      }
      const auto& ch = (*this)[c].children;
      todo.insert(todo.end(), ch.rbegin(), ch.rend());
    }
    return s;
  }

  const std::vector<ThreadInput>& messages_;
  std::vector<Node> nodes_;
};

std::string ordered_subject(const std::vector<ThreadInput>& messages) {
  Forest f(messages);
  std::vector<int> order(messages.size());
  for (std::size_t i = 0; i < order.size(); ++i)
    order[i] = static_cast<int>(i);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    const auto& x = messages[static_cast<std::size_t>(a)];
    const auto& y = messages[static_cast<std::size_t>(b)];
    return std::tie(x.subject, x.date) < std::tie(y.subject, y.date);
  });
  std::vector<int> roots;
  for (std::size_t i = 0; i < order.size(); ++i) {
    int n = f.add(order[i]);
    const bool same = i > 0 && messages[static_cast<std::size_t>(order[i])].subject ==
                                   messages[static_cast<std::size_t>(order[i - 1])].subject;
    if (same)
      f.link(roots.back(), n);
    else
      roots.push_back(n);
  }
  std::stable_sort(roots.begin(), roots.end(),
                   [&f](int a, int b) { return f.when(a) < f.when(b); });
  std::string out;
  for (int r : roots)
    out += "(" + f.members(r, 0) + ")";
  return out;
}

std::string references(const std::vector<ThreadInput>& messages) {
  Forest f(messages);
  std::unordered_map<std::string, int> by_id;
  auto container = [&](const std::string& id) {
    auto [it, added] = by_id.try_emplace(id, 0);
    if (added) it->second = f.add(-1);
    return it->second;
  };
  // (1) Containers by Message-ID, linked along the references.
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const ThreadInput& m = messages[i];
    int self;
    auto it = m.message_id.empty() ? by_id.end() : by_id.find(m.message_id);
    if (it != by_id.end() && f[it->second].message < 0) {
      self = it->second;
    } else {
      self = f.add(-1);  // no id, or a duplicate id: a container of its own
      if (!m.message_id.empty() && it == by_id.end()) by_id.emplace(m.message_id, self);
    }
    f[self].message = static_cast<int>(i);
    int previous = -1;
    for (const auto& ref : m.references) {
      if (ref == m.message_id) continue;
      int c = container(ref);
      if (previous >= 0 && f[c].parent < 0 && !f.above(c, previous)) f.link(previous, c);
      previous = c;
    }
    // The last reference is this message's parent (unless that would make a loop).
    f.unlink(self);
    if (previous >= 0 && !f.above(self, previous)) f.link(previous, self);
  }
  // (2) The root set.
  std::vector<int> roots;
  for (std::size_t n = 0; n < f.size(); ++n)
    if (f[static_cast<int>(n)].parent < 0) roots.push_back(static_cast<int>(n));
  // (4) Prune dummies: without children they go; with children they give way to them, except
  // a root dummy with several children.
  std::vector<int> post;  // every node below the roots, children before parents
  {
    std::vector<std::pair<int, bool>> todo;
    for (int r : roots)
      todo.emplace_back(r, false);
    while (!todo.empty()) {
      auto [n, expanded] = todo.back();
      todo.pop_back();
      if (expanded) {
        post.push_back(n);
        continue;
      }
      todo.emplace_back(n, true);
      for (int c : f[n].children)
        todo.emplace_back(c, false);
    }
  }
  for (int n : post) {
    Node& node = f[n];
    if (node.message >= 0) continue;
    if (node.children.empty()) {
      f.unlink(n);
      node.gone = true;
      continue;
    }
    if (node.parent < 0 && node.children.size() > 1) continue;
    const int parent = node.parent;
    std::vector<int> kids = node.children;
    for (int c : kids) {
      f.unlink(c);
      if (parent >= 0) f.link(parent, c);
    }
    f.unlink(n);
    node.gone = true;
  }
  std::vector<int> kept;
  for (std::size_t n = 0; n < f.size(); ++n) {
    const Node& node = f[static_cast<int>(n)];
    if (!node.gone && node.parent < 0) kept.push_back(static_cast<int>(n));
  }
  // (5) Root threads of the same base subject gathered.
  auto subject_of = [&](int n) -> const std::string& {
    static const std::string none;
    int m = f[n].message >= 0       ? f[n].message
            : f[n].children.empty() ? -1
                                    : f[f[n].children.front()].message;
    return m < 0 ? none : messages[static_cast<std::size_t>(m)].subject;
  };
  auto reply = [&](int n) {
    return f[n].message >= 0 && messages[static_cast<std::size_t>(f[n].message)].reply;
  };
  std::map<std::string, int> by_subject;
  for (int r : kept) {
    const std::string& s = subject_of(r);
    if (s.empty()) continue;
    auto [it, added] = by_subject.emplace(s, r);
    // A dummy is preferred, then a message that is no reply.
    const int old = it->second;
    if (!added && ((f[r].message < 0 && f[old].message >= 0) ||
                   (f[old].message >= 0 && reply(old) && f[r].message >= 0 && !reply(r))))
      it->second = r;
  }
  // Each subject's roots join the one the table chose, which may give way to a new dummy.
  std::map<std::string, std::vector<int>> groups;
  std::vector<int> roots_after;
  for (int r : kept) {
    const std::string& s = subject_of(r);
    if (s.empty())
      roots_after.push_back(r);
    else
      groups[s].push_back(r);
  }
  for (auto& [s, group] : groups) {
    int keep = by_subject[s];
    for (int r : group) {
      if (r == keep) continue;
      if (f[keep].message < 0 && f[r].message < 0) {
        std::vector<int> kids = f[r].children;
        for (int c : kids)
          f.link(keep, c);
      } else if (f[keep].message < 0) {
        f.link(keep, r);
      } else if (f[r].message < 0) {  // the message goes under the dummy, which takes its place
        f.link(r, keep);
        keep = r;
      } else if (!reply(keep) && reply(r)) {  // a reply goes under what it answers
        f.link(keep, r);
      } else {  // both real: a new dummy holds both
        int dummy = f.add(-1);
        f.link(dummy, keep);
        f.link(dummy, r);
        keep = dummy;
      }
    }
    roots_after.push_back(keep);
  }
  // (6) Siblings and threads in sent-date order.
  f.sort_all(roots_after);
  std::string out;
  for (int r : roots_after)
    out += "(" + f.members(r, 0) + ")";
  return out;
}

}  // namespace

std::vector<std::string> message_ids(std::string_view field, std::size_t max) {
  std::vector<std::string> out;
  for (std::size_t at = field.find('<'); at != std::string_view::npos && out.size() < max;
       at = field.find('<', at + 1)) {
    std::size_t end = field.find('>', at + 1);
    if (end == std::string_view::npos) break;
    std::string id(field.substr(at + 1, end - at - 1));
    if (!id.empty() && id.find('<') == std::string::npos) out.push_back(std::move(id));
    at = end;
  }
  return out;
}

std::string header_value(std::string_view header, std::string_view name) {
  std::size_t p = 0;
  while (p < header.size()) {
    std::size_t eol = header.find('\n', p);
    std::string_view line =
        header.substr(p, eol == std::string_view::npos ? header.size() - p : eol - p);
    if (line.empty() || line == "\r") break;  // the end of the header
    std::size_t colon = line.find(':');
    if (colon != std::string_view::npos && gmime::iequals(line.substr(0, colon), name)) {
      std::string value(line.substr(colon + 1));
      // Continuation lines (RFC 5322 section 2.2.3) belong to it.
      for (p = eol == std::string_view::npos ? header.size() : eol + 1;
           p < header.size() && (header[p] == ' ' || header[p] == '\t');) {
        eol = header.find('\n', p);
        value += ' ';
        value += header.substr(p, eol == std::string_view::npos ? header.size() - p : eol - p);
        p = eol == std::string_view::npos ? header.size() : eol + 1;
      }
      return value;
    }
    p = eol == std::string_view::npos ? header.size() : eol + 1;
  }
  return "";
}

std::string thread(ThreadAlgorithm algorithm, const std::vector<ThreadInput>& messages) {
  try {
    return algorithm == ThreadAlgorithm::orderedsubject ? ordered_subject(messages)
                                                        : references(messages);
  } catch (...) {
    return "";
  }
}

}  // namespace portico::imap
