// The chat page: ask, read the answer highlighted in its source, follow up.
// Plain DOM, no framework, no build step. Every piece of data enters the page as text
// (textContent, text nodes, attribute values): never as HTML, so a document cannot run code.
"use strict";

(() => {
  const KEY = "rag.apiKey"; // sessionStorage: asked once, kept for this tab only
  const K = 5;
  const MAX_TURNS = 40;
  const $ = (id) => document.getElementById(id);
  const log = $("log");
  const askForm = $("ask-form");
  const question = $("question");
  const send = $("send");
  const keyForm = $("key-form");
  const keyInput = $("key-input");
  const dialog = $("doc-view");
  const docTitle = $("doc-title");
  const docStatus = $("doc-status");
  const docText = $("doc-text");

  let turns = []; // completed turns, sent to /chat so follow-ups use the conversation
  let conversation = 0; // bumped by "New conversation", so a late answer joins no new chat
  let busy = false;
  let afterKey = null; // what to retry once the person has typed the API key

  // --- DOM helpers: text only ---------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "text") node.textContent = value;
      else if (name === "class") node.className = value;
      else node.setAttribute(name, value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child); // strings become text nodes
    }
    return node;
  }

  function scrollToEnd(node) {
    node.scrollIntoView({ block: "end", behavior: "smooth" });
  }

  // Server offsets count code points (Python strings); JS strings count UTF-16 units.
  function cut(text, start, end) {
    if (!/[\uD800-\uDFFF]/.test(text)) {
      return [text.slice(0, start), text.slice(start, end), text.slice(end)];
    }
    const points = Array.from(text);
    return [points.slice(0, start).join(""), points.slice(start, end).join(""),
      points.slice(end).join("")];
  }

  function codePoints(text) {
    return /[\uD800-\uDFFF]/.test(text) ? Array.from(text).length : text.length;
  }

  // --- The API ------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, type, message) {
      super(message);
      this.status = status;
      this.type = type;
    }
  }

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    const key = sessionStorage.getItem(KEY);
    if (key) headers.Authorization = `Bearer ${key}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiError(0, "unreachable",
        `Could not reach the server (${err.message}). Is \`rag serve\` still running?`);
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (!response.ok) {
      const error = data && data.error ? data.error : {};
      throw new ApiError(response.status, error.type || "http_error",
        error.message || `The server answered ${response.status} ${response.statusText}.`);
    }
    if (data === null) {
      throw new ApiError(response.status, "invalid_response", "The server's answer is not JSON.");
    }
    return data;
  }

  function docPath(docId) {
    return `/documents/${docId.split("/").map(encodeURIComponent).join("/")}`;
  }

  // --- Rendering an answer ------------------------------------------------------------------

  function confidenceText(p) {
    const word = p >= 0.8 ? "high" : p >= 0.5 ? "medium" : "low";
    return `${word} (${p.toFixed(2)})`;
  }

  // A link to the document text, scrolled to [start, end): a real URL, so it also opens in a
  // new tab; a plain click opens the document over the conversation.
  function sourceLink(docId, page, start, end) {
    const params = new URLSearchParams({ doc: docId, start: String(start), end: String(end) });
    const label = page ? `${docId}, page ${page}` : docId;
    const link = el("a", { href: `#${params}`, class: "source", text: label });
    link.addEventListener("click", (event) => {
      if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
      event.preventDefault();
      openDocument(docId, start, end);
    });
    return link;
  }

  function citedSentence(citation) {
    const sentence = citation.sentence;
    const from = citation.start - citation.sentence_start;
    const to = citation.end - citation.sentence_start;
    const quote = el("blockquote", { class: "cited" });
    if (from >= 0 && to > from && to <= codePoints(sentence)) {
      const [before, middle, after] = cut(sentence, from, to);
      quote.append(before, el("mark", { text: middle }), after);
    } else {
      quote.append(el("mark", { text: citation.text }));
    }
    return el("figure", { class: "citation" }, quote,
      el("figcaption", {}, "Source: ",
        sourceLink(citation.doc_id, citation.page, citation.start, citation.end)));
  }

  function passageList(passages) {
    return el("ol", { class: "passages" }, ...passages.map((p) => el("li", {},
      el("div", { class: "meta" }, sourceLink(p.doc_id, p.page, p.start, p.end),
        el("span", { class: "score", text: ` score ${p.score.toFixed(2)}` })),
      el("blockquote", { class: "passage", text: p.text }))));
  }

  function alternativeList(alternatives) {
    return el("ol", { class: "alternatives" }, ...alternatives.map((a) => el("li", {},
      el("p", {}, el("strong", { text: a.answer }), " ",
        el("span", { class: "confidence", text: confidenceText(a.confidence) })),
      a.citations.length ? citedSentence(a.citations[0]) : null)));
  }

  function collapsed(title, body) {
    return el("details", {}, el("summary", { text: title }), body);
  }

  function same(a, b) {
    return a.trim().replace(/\s+/g, " ").toLowerCase() === b.trim().replace(/\s+/g, " ").toLowerCase();
  }

  function renderAnswer(answer) {
    const turn = el("article", { class: "turn bot" });
    if (answer.standalone_question && !same(answer.standalone_question, answer.question)) {
      turn.append(el("p", { class: "searched" }, "Searched for: ",
        el("q", { text: answer.standalone_question })));
    }
    const alternatives = answer.alternatives || [];
    const passages = answer.passages || [];
    if (answer.answer === null) {
      turn.classList.add("abstained");
      turn.append(el("p", { class: "answer" }, el("strong", { text: "The documents do not say." })));
      if (passages.length) {
        turn.append(el("p", { class: "hint", text: "The closest passages, to read on:" }),
          passageList(passages.slice(0, 3)));
        if (passages.length > 3) {
          turn.append(collapsed(`More passages (${passages.length - 3})`,
            passageList(passages.slice(3))));
        }
      }
      if (alternatives.length) {
        turn.append(collapsed(`Held-back guesses (${alternatives.length})`,
          alternativeList(alternatives)));
      }
      return turn;
    }
    turn.append(el("p", { class: "answer" }, el("strong", { text: answer.answer }), " ",
      el("span", { class: "confidence", title: "How likely the answer is right",
        text: confidenceText(answer.confidence) })));
    if (answer.citations && answer.citations.length) {
      turn.append(citedSentence(answer.citations[0]));
    }
    if (alternatives.length) {
      turn.append(collapsed(`Other answers (${alternatives.length})`,
        alternativeList(alternatives)));
    }
    if (passages.length) {
      turn.append(collapsed(`Retrieved passages (${passages.length})`, passageList(passages)));
    }
    return turn;
  }

  function renderError(error, text) {
    const where = error.status ? `Error ${error.status} (${error.type})` : "Server unreachable";
    const turn = el("article", { class: "turn bot error", role: "alert" },
      el("p", {}, el("strong", { text: `${where}: ` }), error.message));
    if (text !== undefined) {
      const retry = el("button", { type: "button", class: "link", text: "Ask again" });
      retry.addEventListener("click", () => {
        turn.remove();
        ask(text, true);
      });
      turn.append(el("p", {}, retry));
    }
    return turn;
  }

  function working() {
    const status = el("span", { text: "Searching the documents…" });
    const turn = el("article", { class: "turn bot working", "aria-busy": "true" },
      el("span", { class: "spinner", "aria-hidden": "true" }), status);
    const began = Date.now();
    const timer = setInterval(() => {
      status.textContent = `Still working… ${Math.round((Date.now() - began) / 1000)} s`;
    }, 1000);
    return { turn, done: () => clearInterval(timer) };
  }

  // --- Asking -------------------------------------------------------------------------------

  function setBusy(value) {
    busy = value;
    send.disabled = value;
    askForm.setAttribute("aria-busy", String(value));
  }

  async function ask(text, shown = false) {
    if (!shown) log.append(el("article", { class: "turn user" }, el("p", { text })));
    const chat = conversation;
    // The last turns are enough context, and keep the body under the API's 200 messages.
    const messages = [...turns.slice(-MAX_TURNS), { role: "user", content: text }];
    const progress = working();
    log.append(progress.turn);
    scrollToEnd(progress.turn);
    setBusy(true);
    try {
      const answer = await api("POST", "/chat", { messages, k: K });
      const turn = renderAnswer(answer);
      progress.turn.replaceWith(turn);
      // An abstention carries no words for the next follow-up to lean on.
      if (chat === conversation) {
        turns = [...messages, { role: "assistant", content: answer.answer ?? "" }];
      }
      scrollToEnd(turn);
    } catch (error) {
      if (error.status === 401) {
        const note = el("article", { class: "turn bot note" },
          el("p", { text: "This server needs an API key: type it below." }));
        progress.turn.replaceWith(note);
        askForKey(() => {
          note.remove();
          ask(text, true);
        });
      } else {
        const turn = renderError(error, text);
        progress.turn.replaceWith(turn);
        scrollToEnd(turn);
      }
    } finally {
      progress.done();
      setBusy(false);
      if (keyForm.hidden) question.focus();
    }
  }

  askForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = question.value.trim();
    if (!text || busy) return;
    question.value = "";
    ask(text);
  });

  $("new-chat").addEventListener("click", () => {
    turns = [];
    conversation += 1;
    log.replaceChildren();
    question.focus();
  });

  // --- The API key --------------------------------------------------------------------------

  function askForKey(retry) {
    afterKey = retry;
    $("key-label").textContent = sessionStorage.getItem(KEY)
      ? "The server refused that API key: type it again."
      : "This server needs an API key.";
    keyForm.hidden = false;
    keyInput.focus();
  }

  keyForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const key = keyInput.value.trim();
    if (!/^[\x20-\x7e]+$/.test(key)) {
      $("key-label").textContent = "A key can be sent only as printable ASCII characters.";
      return;
    }
    sessionStorage.setItem(KEY, key);
    keyInput.value = "";
    keyForm.hidden = true;
    const retry = afterKey;
    afterKey = null;
    if (retry) retry();
    else question.focus();
  });

  // --- The document view --------------------------------------------------------------------

  function pageOf(pageStarts, offset) {
    let page = 0;
    pageStarts.forEach((start, i) => { if (start <= offset) page = i; });
    return page + 1;
  }

  async function openDocument(docId, start, end) {
    docTitle.textContent = docId;
    docStatus.textContent = "Loading the document…";
    docText.replaceChildren();
    if (!dialog.open) dialog.showModal();
    let doc;
    try {
      doc = await api("GET", docPath(docId));
    } catch (error) {
      if (error.status === 401) {
        dialog.close();
        askForKey(() => openDocument(docId, start, end));
      } else {
        docStatus.textContent = `Could not open ${docId}: ${error.message}`;
      }
      return;
    }
    docTitle.textContent = doc.title === doc.doc_id ? doc.doc_id : `${doc.title} — ${doc.doc_id}`;
    const length = codePoints(doc.text);
    const from = Math.min(Math.max(0, start), length);
    const to = Math.min(Math.max(from, end), length);
    const [before, middle, after] = cut(doc.text, from, to);
    const mark = el("mark", { id: "doc-mark", text: middle });
    docText.replaceChildren(before, mark, after);
    const pages = doc.page_starts && doc.page_starts.length
      ? `, page ${pageOf(doc.page_starts, from)} of ${doc.page_starts.length}` : "";
    docStatus.textContent = `Characters ${from}–${to} of ${length}${pages}, highlighted.`;
    mark.scrollIntoView({ block: "center" });
    docText.focus({ preventScroll: true });
  }

  $("doc-close").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    // Opened from a link in a new tab: drop the #doc=… so a reload shows the chat.
    if (location.hash) history.replaceState(null, "", location.pathname);
  });

  function openFromHash() {
    const params = new URLSearchParams(location.hash.slice(1));
    const docId = params.get("doc");
    if (!docId) return;
    openDocument(docId, Number(params.get("start")) || 0, Number(params.get("end")) || 0);
  }

  window.addEventListener("hashchange", openFromHash);

  // --- Start --------------------------------------------------------------------------------

  async function showStatus() {
    try {
      const health = await (await fetch("/health")).json();
      $("status").textContent = health.ready
        ? `${health.documents} document${health.documents === 1 ? "" : "s"} indexed.`
        : `Not ready: ${health.reason}`;
    } catch {
      $("status").textContent = "The server cannot be reached.";
    }
  }

  showStatus();
  openFromHash();
  question.focus();
})();
