// Claim tracker: sends a claim and its documents to POST /track and shows who asserts, disputes or reports it.
// Plain ES2020, no libraries, nothing fetched but the page's own files and the service's answer.
'use strict';

(() => {
  // The page is served at <prefix>/tracker/ and the route at <prefix>/track: resolving against this script's
  // own URL (<prefix>/tracker/tracker.js) finds it behind any prefix, with or without the page's trailing slash.
  const SCRIPT_URL = document.currentScript ? document.currentScript.src : location.href;
  const TRACK_URL = new URL('../track', SCRIPT_URL);
  const routeUrl = (route) => new URL(`../${route}`, SCRIPT_URL);
  const FIELDS_URL = new URL('fields.json', SCRIPT_URL);
  const CONTEXT_CHARS = 200;
  const BOX_NAME = 'the documents box';

  const byId = (id) => document.getElementById(id);
  const form = byId('track-form');
  const claimBox = byId('claim');
  const documentsBox = byId('documents');
  const fileInput = byId('file');
  const statusLine = byId('status');
  const results = byId('results');

  let lastAnswer = null;

  // ---- The API key, where the service asks for one ----------------------------------------------------

  /** Kept for this tab only (sessionStorage): gone when it closes, never sent anywhere but this service. */
  const KEY_NAME = 'claimstance-api-key';
  const keyForm = byId('key-form');
  const keyBox = byId('api-key');

  function authorization() {
    const key = sessionStorage.getItem(KEY_NAME);
    return key ? { Authorization: `Bearer ${key}` } : {};
  }

  /** Show the key field: the service answered 401 (no key, or not its own). */
  function askForKey() {
    keyForm.hidden = false;
    keyBox.focus();
  }

  function useKey(event) {
    event.preventDefault();
    const key = keyBox.value.trim();
    if (!key) return;
    sessionStorage.setItem(KEY_NAME, key);
    keyBox.value = '';
    keyForm.hidden = true;
    setStatus('Key kept for this tab. Send the request again.');
  }
  /** The running call's controller: a new call, or leaving the page, aborts it, and the service drops its work. */
  let running = null;

  /** A problem with what the user gave, worded for them. */
  class InputError extends Error {}

  function setStatus(message, isError = false) {
    statusLine.textContent = message;
    statusLine.classList.toggle('error', isError);
  }

  function element(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (value === null || value === undefined || value === false) continue;
      if (name === 'className') node.className = value;
      else if (name === 'style') node.style.cssText = value; // the CSSOM: the page's policy refuses style attributes
      else node.setAttribute(name, value === true ? '' : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  const plural = (count, word) => `${count} ${word}${count === 1 ? '' : 's'}`;

  /** A caller's string inside a line of the page's own text, isolated (FSI … PDI) so that right-to-left
   *  characters or overrides in it cannot reorder the words around it. */
  const isolated = (value) => `\u2068${value}\u2069`;

  /** A caller's string as its own element, isolated the same way. */
  const own = (value) => element('bdi', {}, value);

  // ---- Reading documents ------------------------------------------------------------------------------

  /** The fields a document may have, as the service declares them (fields.json, beside this script): read once. */
  let fieldNames = null;
  async function documentFields() {
    if (!fieldNames) {
      const response = await fetch(FIELDS_URL);
      if (!response.ok) throw new Error(`the page's field list (${FIELDS_URL.pathname}) answered ${response.status}`);
      fieldNames = (await response.json()).map((field) => field.name);
    }
    return fieldNames;
  }

  /** The contract's fields of one input object; empty optional fields are left out, a missing id numbered. */
  function toDocument(value, defaultId, where, fields) {
    const doc = {};
    for (const field of fields) {
      const v = value[field];
      if (v !== undefined && v !== null && v !== '') doc[field] = v;
    }
    if (doc.id === undefined) doc.id = defaultId;
    if (typeof doc.text !== 'string' || !doc.text.trim()) throw new InputError(`${where} has no text`);
    return doc;
  }

  function parseJsonl(text, name, fields) {
    const documents = [];
    text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/).forEach((line, index) => {
      if (!line.trim()) return;
      const where = `line ${index + 1} of ${name}`;
      let value;
      try {
        value = JSON.parse(line);
      } catch (error) {
        throw new InputError(`${where} is not JSON: ${error.message}`);
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new InputError(`${where} is not a JSON object (one document per line, like {"id": 1, "text": "..."})`);
      }
      documents.push(toDocument(value, index + 1, where, fields));
    });
    if (!documents.length) throw new InputError(`${name} has no documents`);
    return documents;
  }

  /** RFC 4180 records: quoted fields may hold commas, doubled quotes and line breaks. Each record keeps the
   *  line it starts on, for messages. */
  function csvRecords(text, name) {
    const records = [];
    let cells = [];
    let cell = '';
    let quoted = false;
    let atCellStart = true;
    let line = 1;
    let recordLine = 1;
    let quoteLine = 0;
    const endCell = () => {
      cells.push(cell);
      cell = '';
      atCellStart = true;
    };
    const endRecord = () => {
      endCell();
      if (!(cells.length === 1 && cells[0] === '')) records.push({ cells, line: recordLine });
      cells = [];
    };
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (quoted) {
        if (c === '"' && text[i + 1] === '"') {
          cell += '"';
          i++;
        } else if (c === '"') {
          quoted = false;
        } else {
          if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) line++;
          cell += c;
        }
      } else if (c === '"' && atCellStart) {
        quoted = true;
        atCellStart = false;
        quoteLine = line;
      } else if (c === ',') {
        endCell();
      } else if (c === '\r' || c === '\n') {
        if (c === '\r' && text[i + 1] === '\n') i++;
        endRecord();
        line++;
        recordLine = line;
      } else {
        cell += c;
        atCellStart = false;
      }
    }
    if (quoted) throw new InputError(`${name}: the quoted field opened on line ${quoteLine} is never closed`);
    if (cell !== '' || cells.length) endRecord();
    return records;
  }

  function parseCsv(text, name, fields) {
    const records = csvRecords(text.replace(/^\uFEFF/, ''), name);
    if (!records.length) throw new InputError(`${name} is empty`);
    const header = records[0].cells.map((column) => column.trim().toLowerCase());
    if (!header.includes('text')) {
      throw new InputError(`${name} has no text column (its header row is: ${records[0].cells.join(',')})`);
    }
    const documents = records.slice(1).map((record, index) => {
      const where = `line ${record.line} of ${name}`;
      if (record.cells.length !== header.length) {
        throw new InputError(`${where} has ${record.cells.length} fields, the header row ${header.length}`);
      }
      const value = {};
      header.forEach((column, i) => {
        if (fields.includes(column)) value[column] = record.cells[i];
      });
      return toDocument(value, index + 1, where, fields);
    });
    if (!documents.length) throw new InputError(`${name} has a header row but no documents`);
    return documents;
  }

  async function loadFile() {
    const file = fileInput.files[0];
    if (!file) return;
    try {
      const text = await file.text();
      const isCsv = /\.csv$/i.test(file.name) || file.type === 'text/csv';
      const fields = await documentFields();
      const documents = isCsv ? parseCsv(text, file.name, fields) : parseJsonl(text, file.name, fields);
      documentsBox.value = documents.map((doc) => JSON.stringify(doc)).join('\n');
      setStatus(`Loaded ${plural(documents.length, 'document')} from ${file.name}.`);
    } catch (error) {
      setStatus(error instanceof InputError ? error.message : `${file.name} could not be read: ${error.message}`, true);
    } finally {
      fileInput.value = '';  // choosing the same file again, once fixed, loads it again
    }
  }

  // ---- Asking the service -----------------------------------------------------------------------------

  function refusal(status, payload, body) {
    const error = payload && typeof payload.error === 'string' ? payload.error : null;
    if (status === 400 && payload && Array.isArray(payload.detail) && payload.detail.length) {
      const [first] = payload.detail;
      const loc = Array.isArray(first.loc) ? first.loc : [];
      let where = loc.join('.');
      if (loc[0] === 'documents' && Number.isInteger(loc[1]) && body.documents[loc[1]]) {
        where += ` (document ${isolated(body.documents[loc[1]].id)})`;
      }
      return `The service refused the request: ${where}: ${first.msg ?? error ?? 'invalid'}`;
    }
    if (status === 401) {
      askForKey();
      return `This service needs an API key: ${error ?? 'enter yours below'}`;
    }
    if (status === 403) return `The key may not do this: ${error ?? 'its scope is too low'}`;
    if (status === 413) return `The request is too large: ${error ?? 'the body is over the limit'}`;
    if (status === 503) return `The service is busy: ${error ?? 'overloaded'}. Try again in a moment.`;
    return `The service answered ${status}: ${error ?? 'no explanation given'}`;
  }

  async function submit(event) {
    event.preventDefault();
    const claim = claimBox.value.trim();
    if (!claim) {
      setStatus('Write the claim to track first.', true);
      claimBox.focus();
      return;
    }
    let documents;
    try {
      documents = parseJsonl(documentsBox.value, BOX_NAME, await documentFields());
    } catch (error) {
      setStatus(error instanceof InputError ? error.message : `The page could not start: ${error.message}`, true);
      documentsBox.focus();
      return;
    }
    const body = { claim, documents };
    if (running) running.abort();
    const call = new AbortController();
    running = call;
    results.setAttribute('aria-busy', 'true');
    setStatus(`Reading ${plural(documents.length, 'document')}…`);
    let response;
    let raw;
    try {
      response = await fetch(TRACK_URL, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...authorization() },
        body: JSON.stringify(body),
        signal: call.signal,
      });
      raw = await response.text();
    } catch (error) {
      if (call.signal.aborted) return; // a newer call took over, or the page is going away
      setStatus(`Could not reach the service at ${TRACK_URL.pathname}: ${error.message}`, true);
      return;
    } finally {
      if (running === call) {
        running = null;
        results.removeAttribute('aria-busy');
      }
    }
    let payload = null;
    try {
      payload = JSON.parse(raw);
    } catch {
      payload = { error: raw.slice(0, 300) || null };
    }
    if (!response.ok) {
      setStatus(refusal(response.status, payload, body), true);
      return;
    }
    if (!payload || !payload.summary || !Array.isArray(payload.documents)) {
      setStatus(`The service's answer is not a tracking answer: ${raw.slice(0, 200)}`, true);
      return;
    }
    lastAnswer = payload;
    render(payload, body);
    const s = payload.summary;
    const rows = byId('sources').tBodies[0].rows.length;
    setStatus(`${plural(s.documents, 'document')} read by ${payload.model}: ${s.related} related, ` +
      `${s.unrelated} unrelated; ${plural(rows, 'row')} in the sources table.`);
  }

  // ---- Showing the answer -----------------------------------------------------------------------------

  /** Whole percentages that add up to 100 (largest remainders), one per count. */
  function percentages(counts) {
    const total = counts.reduce((a, b) => a + b, 0);
    if (!total) return counts.map(() => 0);
    const exact = counts.map((count) => (100 * count) / total);
    const whole = exact.map(Math.floor);
    const order = exact.map((value, i) => [value - whole[i], i]).sort((a, b) => b[0] - a[0]);
    const missing = 100 - whole.reduce((a, b) => a + b, 0);
    for (let k = 0; k < missing; k++) whole[order[k][1]]++;
    return whole;
  }

  /** A claim summary's stances as one bar, a segment per stance that has documents, sized by its share. */
  function shareBar(summary, attributes = {}) {
    const labels = Object.keys(summary.labels);
    const counts = labels.map((label) => summary.labels[label].count);
    const percents = percentages(counts);
    const bar = element('div', { className: 'share-bar', ...attributes });
    labels.forEach((label, i) => {
      if (counts[i]) {
        bar.append(element('div', {
          className: `segment stance-${label}`, 'data-label': label, 'data-percent': percents[i],
          style: `width: ${(100 * counts[i]) / summary.related}%`, title: `${label} ${percents[i]}%`,
        }, `${label} ${percents[i]}%`));
      }
    });
    return { bar, labels, counts, percents };
  }

  function renderSummary(answer) {
    const summary = answer.summary;
    const { bar, labels, counts, percents } = shareBar(summary, { id: 'share-bar' });
    const legend = element('ul', { className: 'legend' });
    labels.forEach((label, i) => {
      legend.append(element('li', { 'data-label': label },
        element('span', { className: `swatch stance-${label}`, 'aria-hidden': 'true' }),
        `${label}: ${counts[i]} (${percents[i]}%)`));
    });
    const container = byId('summary');
    container.replaceChildren(
      element('h3', {}, 'Summary'),
      element('p', { className: 'hint' }, `Claim: “${answer.claim}” · model ${answer.model}`),
      summary.related ? bar : element('p', {}, 'No document is about the claim.'),
      legend,
      element('p', { className: 'summary-line' },
        `${plural(summary.documents, 'document')}: `,
        element('strong', { id: 'related-count' }, summary.related), ' related, ',
        element('strong', { id: 'unrelated-count' }, summary.unrelated), ' unrelated',
        ' (shares are of the related documents).'),
    );
    container.hidden = false;
  }

  /** The document a row shows evidence from: among the related documents with the prevailing label, the one
   *  that gives that label the highest score (the first in the answer's order on a tie); for a source with no
   *  related document, its most relevant one. */
  function chosenDocument(documents, prevailing) {
    const candidates = prevailing ? documents.filter((doc) => doc.label === prevailing) : documents;
    const score = (doc) => (prevailing ? doc.scores[prevailing] : doc.relevance ?? 0);
    return candidates.reduce((best, doc) => (best === null || score(doc) > score(best) ? doc : best), null);
  }

  /** Up to CONTEXT_CHARS code points, cut at a word boundary where one is near, with an ellipsis. */
  function contextBefore(chars, start) {
    if (start <= CONTEXT_CHARS) return chars.slice(0, start).join('');
    const text = chars.slice(start - CONTEXT_CHARS, start).join('');
    const space = text.search(/\s/);
    return `…${space >= 0 && space < 30 ? text.slice(space + 1) : text}`;
  }

  function contextAfter(chars, end) {
    if (chars.length - end <= CONTEXT_CHARS) return chars.slice(end).join('');
    const text = chars.slice(end, end + CONTEXT_CHARS).join('');
    const space = text.search(/\s\S*$/);
    return `${space > CONTEXT_CHARS - 30 ? text.slice(0, space) : text}…`;
  }

  /** The evidence sentence marked inside its field. Offsets are Python code points, so the field is sliced as
   *  an array of code points; where the field is not at hand the sentence is shown alone. */
  function evidenceBlock(doc, request) {
    const evidence = doc.evidence && doc.evidence[0];
    if (!evidence) return element('p', { className: 'evidence', 'data-document': doc.id }, 'No evidence sentence.');
    const original = request.documents[doc.position] || {};
    const field = evidence.field === 'title' ? doc.title ?? original.title : original.text;
    const chars = Array.from(field || '');
    let before = '';
    let after = '';
    let marked = evidence.text;
    if (chars.slice(evidence.start, evidence.end).join('') === evidence.text) {
      before = contextBefore(chars, evidence.start);
      after = contextAfter(chars, evidence.end);
      marked = chars.slice(evidence.start, evidence.end).join('');
    }
    const meta = ['from ', own(doc.id)];
    if (evidence.field === 'title') meta.push(' · its title');
    if (doc.published) meta.push(' · ', own(doc.published));
    meta.push(` · ${doc.label} ${Math.round(100 * (doc.scores[doc.label] ?? 0))}%`);
    const link = /^https?:\/\//i.test(doc.url || '')
      ? element('a', { href: doc.url, target: '_blank', rel: 'noopener noreferrer' }, 'open')
      : null;
    return element('p', { className: 'evidence', 'data-document': doc.id, 'data-field': evidence.field },
      element('bdi', { className: 'quote' }, before, element('mark', {}, marked), after),
      element('span', { className: 'evidence-meta' }, ...meta, link ? ' · ' : null, link));
  }

  function sourceRow({ label, source, name, note, documents, related, shown }, request) {
    const count = documents === related ? `${documents}` : `${documents} (${related} related)`;
    return element('tr', {
      className: `source-row stance-${label}`, 'data-source': source, 'data-label': label,
      'data-document': source === '' ? shown.id : null,
    },
    element('th', { scope: 'row', className: 'source-name' },
      own(name), note ? element('span', { className: 'no-source' }, note) : null),
    element('td', {}, element('span', { className: `badge stance-${label}` }, label)),
    element('td', { className: 'num' }, count),
    element('td', {}, shown ? evidenceBlock(shown, request) : ''));
  }

  function renderSources(answer, request) {
    const rows = answer.summary.sources.map((entry) => {
      const documents = answer.documents.filter((doc) => doc.source === entry.source);
      return sourceRow({
        label: entry.prevailing ?? 'unrelated', source: entry.source, name: entry.source, note: null,
        documents: entry.documents.length, related: entry.related,
        shown: chosenDocument(documents, entry.prevailing),
      }, request);
    });
    for (const doc of answer.documents.filter((d) => d.source === null || d.source === undefined)) {
      rows.push(sourceRow({
        label: doc.label, source: '', name: String(doc.id), note: 'no source',
        documents: 1, related: doc.label === 'unrelated' ? 0 : 1, shown: doc,
      }, request));
    }
    byId('sources').tBodies[0].replaceChildren(...rows);
    byId('sources-wrap').hidden = false;
  }

  function renderTimeline(summary) {
    const container = byId('timeline');
    const days = summary.timeline || [];
    if (!days.length) {
      container.replaceChildren();
      container.hidden = true;
      return;
    }
    const labels = Object.keys(days[0].counts);
    const totals = days.map((day) => labels.reduce((sum, label) => sum + day.counts[label], 0));
    const busiest = Math.max(1, ...totals);
    const head = element('tr', {}, element('th', { scope: 'col' }, 'Day'),
      element('th', { scope: 'col' }, element('span', { className: 'visually-hidden' }, 'Bar of the day')),
      ...labels.map((label) => element('th', { scope: 'col', className: 'num' }, label)));
    const rows = days.map((day, i) => {
      const bar = element('span', {
        className: 'day-bar', 'aria-hidden': 'true', style: `width: ${(100 * totals[i]) / busiest}%`,
      });
      for (const label of labels) {
        if (day.counts[label]) {
          const share = (100 * day.counts[label]) / totals[i];
          bar.append(element('span', { className: `stance-${label}`, style: `width: ${share}%` }));
        }
      }
      return element('tr', { className: 'day', 'data-date': day.date },
        element('th', { scope: 'row', className: 'day-date' }, day.date),
        element('td', { className: 'day-bar-cell' }, bar),
        ...labels.map((label) => element('td', { className: 'num', 'data-label': label }, day.counts[label])));
    });
    container.replaceChildren(element('table', { className: 'timeline-table' },
      element('caption', {}, 'Timeline of related documents, by day published'),
      element('thead', {}, head), element('tbody', {}, ...rows)));
    container.hidden = false;
  }

  function render(answer, request) {
    byId('results-empty').hidden = true;
    renderSummary(answer);
    renderSources(answer, request);
    renderTimeline(answer.summary);
    byId('export').hidden = false;
    byId('export-json').disabled = false;
    byId('export-csv').disabled = false;
  }

  // ---- Export -----------------------------------------------------------------------------------------

  function download(content, type, filename) {
    const href = URL.createObjectURL(new Blob([content], { type }));
    const link = element('a', { href, download: filename, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(href), 10000);
  }

  // A text cell that a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a leading quote.
  function csvCell(value) {
    let text = value === null || value === undefined ? '' : String(value);
    if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  }

  function answerCsv(answer) {
    const labels = answer.documents.length ? Object.keys(answer.documents[0].scores) : [];
    const scoreColumns = labels.map((label) => `score_${label}`);
    const header = ['id', 'source', 'url', 'published', 'label', 'relevance', ...scoreColumns, 'evidence'];
    const lines = [header];
    for (const doc of answer.documents) {
      lines.push([doc.id, doc.source, doc.url, doc.published, doc.label, doc.relevance,
        ...labels.map((label) => doc.scores[label]), doc.evidence && doc.evidence[0] ? doc.evidence[0].text : '']);
    }
    return lines.map((line) => line.map(csvCell).join(',')).join('\r\n') + '\r\n';
  }

  function exportJson() {
    if (!lastAnswer) return;
    download(`${JSON.stringify(lastAnswer, null, 2)}\n`, 'application/json', 'claimstance-track.json');
    setStatus('Exported the answer as claimstance-track.json.');
  }

  function exportCsv() {
    if (!lastAnswer) return;
    download(answerCsv(lastAnswer), 'text/csv;charset=utf-8', 'claimstance-track.csv');
    setStatus(`Exported ${plural(lastAnswer.documents.length, 'document')} as claimstance-track.csv.`);
  }

  // ---- Watched claims (the claim monitor) -------------------------------------------------------------

  const watchedStatus = byId('watched-status');
  /** Claims the panel shows, each with a summary fetched for it: a page's worth, not the whole watch list. */
  const WATCHED_SHOWN = 100;

  function setWatchedStatus(message, isError = false) {
    watchedStatus.textContent = message;
    watchedStatus.classList.toggle('error', isError);
  }

  /** POST a JSON body to one of the service's routes; the answer's JSON, or an Error with the service's words. */
  async function postJson(route, body) {
    const response = await fetch(routeUrl(route), {
      method: 'POST', headers: { 'content-type': 'application/json', ...authorization() }, body: JSON.stringify(body),
    });
    const payload = await response.json().catch(() => ({}));
    if (response.status === 401) askForKey();
    if (!response.ok) throw new Error(payload.error || `${route}: HTTP ${response.status}`);
    return payload;
  }

  /** A watched claim with its summary: the summary the service computes, and its newest evidence (the page
   *  never reads a claim's documents, however many it has). */
  function watchedItem(claim, stored) {
    const summary = stored.summary;
    const latest = stored.latest;
    const others = Object.entries(stored.other_models).map(([model, count]) => `${model} (${count})`);
    return element('li', { className: 'watched', 'data-claim': claim.id },
      element('p', { className: 'watched-claim' }, own(claim.text)),
      element('p', { className: 'hint' },
        `${plural(summary.related, 'related document')} of ${summary.documents} matched · model `, own(stored.model),
        others.length ? ` · also answered by ${others.join(', ')}` : ''),
      summary.related ? shareBar(summary).bar : element('p', { className: 'hint' }, 'No document about it yet.'),
      latest ? element('p', { className: 'watched-evidence', 'data-document': latest.id },
        element('span', { className: `badge stance-${latest.evidence.label}` }, latest.evidence.label), ' ',
        element('q', {}, own(latest.evidence.text)),
        latest.source ? element('span', { className: 'hint' }, ' · ', own(latest.source)) : null) : null);
  }

  async function loadWatched() {
    setWatchedStatus('Loading the watched claims…');
    try {
      const listed = await postJson('claims/list', { limit: WATCHED_SHOWN + 1 });  // one more: are there more?
      const claims = listed.slice(0, WATCHED_SHOWN);
      const answers = [];
      for (const claim of claims) answers.push(await postJson('claims/summary', { id: claim.id }));
      byId('watched-list').replaceChildren(...claims.map((claim, i) => watchedItem(claim, answers[i])));
      if (!claims.length) setWatchedStatus('No claim is watched yet.');
      else if (listed.length <= WATCHED_SHOWN) setWatchedStatus(`${plural(claims.length, 'watched claim')}.`);
      else setWatchedStatus(`The first ${WATCHED_SHOWN} watched claims (oldest first); more are watched: ` +
        'POST /claims/list pages through them all (after).');
    } catch (error) {
      setWatchedStatus(`Could not load the watched claims: ${error.message}`, true);
    }
  }

  // ---- Example ----------------------------------------------------------------------------------------

  const EXAMPLE = {
    claim: "Russia's airstrikes in Syria are targeting the Islamic State group",
    documents: [
      { id: 'reuters-1', source: 'Reuters', published: '2015-10-01', url: 'https://example.org/reuters-1',
        title: 'U.S. says Russian strikes in Syria hit rebels, not Islamic State',
        text: 'U.S. officials said on Thursday that most Russian air strikes in Syria had hit areas held by ' +
          'Western-backed rebels rather than Islamic State fighters. "We have not seen them strike ISIL targets ' +
          'in any significant numbers," a defense official said. Moscow rejected the charge.' },
      { id: 'reuters-2', source: 'Reuters', published: '2015-10-03',
        text: 'Analysis: Russia\'s air campaign is not aimed at Islamic State. Nearly all of its strikes have hit ' +
          'rebel groups opposed to President Bashar al-Assad, far from territory held by the jihadists.' },
      { id: 'rt-1', source: 'RT', published: '2015-10-02',
        text: 'Russian warplanes hit Islamic State positions across Syria for a third day. The strikes destroyed an ' +
          'Islamic State training camp and a weapons depot.' },
      { id: 'aljazeera-1', source: 'Al Jazeera', published: '2015-10-02',
        text: 'Russia says its air strikes in Syria target the Islamic State group. Activists on the ground said ' +
          'the raids hit towns in Homs province, and the claim could not be independently verified.' },
      { id: 'herald-1', source: 'City Herald', published: '2015-10-02',
        text: 'The city council approved a new bicycle lane along the river on Tuesday. Work begins in spring.' },
      { id: 'blog-7', published: '2015-10-03',
        text: 'Moscow is finally taking the fight to the jihadists 💪. Russian guided bombs destroyed an Islamic ' +
          'State compound near Raqqa this week.' },
    ],
  };

  function loadExample() {
    claimBox.value = EXAMPLE.claim;
    documentsBox.value = EXAMPLE.documents.map((doc) => JSON.stringify(doc)).join('\n');
    setStatus(`Example loaded: ${plural(EXAMPLE.documents.length, 'document')}. Press “Track the claim”.`);
  }

  form.addEventListener('submit', submit);
  keyForm.addEventListener('submit', useKey);
  window.addEventListener('pagehide', () => running && running.abort());
  fileInput.addEventListener('change', loadFile);
  byId('example').addEventListener('click', loadExample);
  byId('export-json').addEventListener('click', exportJson);
  byId('export-csv').addEventListener('click', exportCsv);
  byId('watched-load').addEventListener('click', loadWatched);
})();
