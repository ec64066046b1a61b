export const id = 685;
export const ids = [685];
export const modules = {

/***/ 1685:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   buildPrComment: () => (/* binding */ buildPrComment),
/* harmony export */   prCommentContextFromEnv: () => (/* binding */ prCommentContextFromEnv),
/* harmony export */   upsertPrComment: () => (/* binding */ upsertPrComment)
/* harmony export */ });
/* unused harmony exports GITHUB_COMMENT_MAX_CHARS, PR_COMMENT_SUMMARY_MAX_BYTES, PR_COMMENT_HEADING, pullRequestNumber, commentMarker, markerGroupKey, DEFAULT_TOKEN_LOGIN */
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(3024);
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_fs__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var _net_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(8316);
/* harmony import */ var _report_summary_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(6162);
// The upload summary as one pull-request comment: found again by a hidden marker and updated, never posted
// twice. Posting it is a courtesy: whatever GitHub answers, this never throws and never fails the step.



/** GitHub refuses a comment body over 65,536 characters. */
const GITHUB_COMMENT_MAX_CHARS = 65_536;
/** What the summary renderer may use: below the limit, leaving room for the marker and a cut note. */
const PR_COMMENT_SUMMARY_MAX_BYTES = 60_000;
const PR_COMMENT_HEADING = 'Kognic predictions upload';
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_API_URL = 'https://api.github.com';
const PULL_REQUEST_EVENTS = new Set(['pull_request', 'pull_request_target']);
const MARKER_PREFIX = '<!-- kognic-upload-predictions ';
const PERMISSION_HINT = 'The token needs `permissions: pull-requests: write` in the workflow (or the job). A pull request from a fork gets a read-only GITHUB_TOKEN: use `dry-run` there, or leave `pr-comment` off.';
/** The runner's variables, as `@actions/github` reads them. */
function prCommentContextFromEnv(env) {
    return {
        eventName: env.GITHUB_EVENT_NAME ?? '',
        ...(env.GITHUB_EVENT_PATH ? { eventPath: env.GITHUB_EVENT_PATH } : {}),
        ...(env.GITHUB_REPOSITORY ? { repository: env.GITHUB_REPOSITORY } : {}),
        ...(env.GITHUB_API_URL ? { apiUrl: env.GITHUB_API_URL } : {})
    };
}
function readPullRequestEvent(ctx) {
    if (!PULL_REQUEST_EVENTS.has(ctx.eventName)) {
        return {
            ok: false,
            level: 'info',
            reason: `the workflow runs on ${ctx.eventName ? `a ${ctx.eventName} event` : 'an unknown event'}, not a pull request`
        };
    }
    if (!ctx.eventPath)
        return { ok: false, level: 'warning', reason: 'GITHUB_EVENT_PATH is not set' };
    let payload;
    try {
        payload = JSON.parse((0,node_fs__WEBPACK_IMPORTED_MODULE_0__.readFileSync)(ctx.eventPath, 'utf8'));
    }
    catch (error) {
        return {
            ok: false,
            level: 'warning',
            reason: `the event file ${ctx.eventPath} could not be read as JSON (${error instanceof Error ? error.message : String(error)})`
        };
    }
    const event = asRecord(payload);
    const pr = asRecord(event?.pull_request);
    const number = pr?.number ?? event?.number;
    if (typeof number !== 'number' || !Number.isInteger(number) || number <= 0) {
        return {
            ok: false,
            level: 'warning',
            reason: `the ${ctx.eventName} event carries no pull request number`
        };
    }
    const baseRepository = fullName(asRecord(pr?.base)?.repo) ?? fullName(event?.repository);
    const headRepository = fullName(asRecord(pr?.head)?.repo);
    return {
        ok: true,
        pr: {
            number,
            ...(baseRepository ? { baseRepository } : {}),
            ...(headRepository && baseRepository && headRepository !== baseRepository
                ? { forkRepository: headRepository }
                : {})
        }
    };
}
/** The pull request's number on pull_request and pull_request_target events; null on any other event. */
function pullRequestNumber(ctx) {
    const read = readPullRequestEvent(ctx);
    return read.ok ? read.pr.number : null;
}
/**
 * The hidden line that finds this action's comment again. Keyed by dataset and group so two uploads from one
 * pull request (two datasets, or two groups) keep a comment each. Parts are URI-encoded: a group name
 * cannot end the HTML comment early, or make one marker a prefix of another.
 */
function commentMarker(datasetUuid, groupKey) {
    const part = (s) => encodeURIComponent(s.trim());
    return `${MARKER_PREFIX}dataset=${part(datasetUuid.toLowerCase())} group=${part(groupKey)} -->`;
}
/**
 * The group part of the marker: the group as the inputs name it — `name:<name>` for `predictions-group`, the
 * UUID for `predictions-group-uuid` — so a dry run, the first real run that creates the group and every later
 * run of the same step share one comment. Without inputs (they were invalid), the group the run knew, else
 * `unresolved`.
 */
function markerGroupKey(group, inputGroup) {
    if (inputGroup?.kind === 'uuid')
        return inputGroup.uuid.toLowerCase();
    if (inputGroup?.kind === 'name')
        return `name:${inputGroup.name}`;
    if (group.uuid)
        return group.uuid.toLowerCase();
    return group.name ? `name:${group.name}` : 'unresolved';
}
/** The comment for a run: the job summary's renderer, cut to fit a comment, and its marker. */
function buildPrComment(report, inputGroup) {
    const marker = commentMarker(report.datasetUuid, markerGroupKey(report.group, inputGroup));
    // The comment points at the run: its artifacts hold the results file, which lists every file.
    const runUrl = report.run?.url;
    const body = (0,_report_summary_js__WEBPACK_IMPORTED_MODULE_1__/* .renderSummary */ .Br)(report, {
        maxBytes: PR_COMMENT_SUMMARY_MAX_BYTES,
        heading: PR_COMMENT_HEADING,
        // The job summary lists only the first files of each kind; the results file lists them all.
        everyFileAt: runUrl
            ? { label: 'the results file, when kept as an artifact of the workflow run', url: runUrl }
            : null
    });
    return { marker, body };
}
/** Creates the pull request's comment carrying `marker`, or updates it when it exists. Never throws. */
async function upsertPrComment(opts) {
    const { token, ctx, marker, logger } = opts;
    const skip = (level, reason) => {
        const text = scrub(`No pull-request comment: ${reason}.`, token);
        if (level === 'info')
            logger.info(text);
        else
            logger.warning(text, { title: 'Pull-request comment' });
        return { action: 'skipped', reason: scrub(reason, token) };
    };
    const event = readPullRequestEvent(ctx);
    if (!event.ok)
        return skip(event.level, event.reason);
    const pr = event.pr;
    if (!token.trim()) {
        return skip('warning', `github-token is empty. ${PERMISSION_HINT}`);
    }
    const repository = ctx.repository || pr.baseRepository;
    const [owner, repo, ...extra] = (repository ?? '').split('/');
    if (!owner || !repo || extra.length > 0) {
        return skip('warning', `GITHUB_REPOSITORY is ${repository ? `"${repository}", not owner/name` : 'not set'}`);
    }
    const apiUrl = (ctx.apiUrl || DEFAULT_API_URL).replace(/\/+$/, '');
    const refusal = refuseApiUrl(apiUrl);
    if (refusal)
        return skip('warning', refusal);
    const body = fitComment(opts.body.startsWith(marker) ? opts.body : `${marker}\n${opts.body}`);
    const where = `pull request #${pr.number} of ${owner}/${repo}`;
    let step = 'list the comments of';
    try {
        // Loaded here, not at the top: runs without a comment should not pay for loading octokit.
        const [{ getOctokit }, { defaults }] = await Promise.all([
            Promise.all(/* import() */[__webpack_require__.e(2), __webpack_require__.e(351)]).then(__webpack_require__.bind(__webpack_require__, 1351)),
            __webpack_require__.e(/* import() */ 2).then(__webpack_require__.bind(__webpack_require__, 4002))
        ]);
        const signal = AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
        // `defaults.request` holds the runner's proxy-aware fetch (chosen for GITHUB_API_URL at import): keep it.
        const octokit = getOctokit(token, {
            baseUrl: apiUrl,
            request: { ...defaults.request, signal },
            log: {
                debug: (m) => logger.debug(scrub(m, token)),
                info: (m) => logger.debug(scrub(m, token)),
                warn: (m) => logger.debug(scrub(m, token)),
                error: (m) => logger.debug(scrub(m, token))
            }
        });
        step = 'find out which user the token belongs to, before commenting on';
        const author = await tokenLogin(octokit);
        step = 'list the comments of';
        let existing;
        const pages = octokit.paginate.iterator(octokit.rest.issues.listComments, {
            owner,
            repo,
            issue_number: pr.number,
            per_page: 100
        });
        for await (const page of pages) {
            // Ours start with the marker and were written by this token's user: anyone can copy the marker.
            existing = page.data.find((c) => c.user?.login === author && typeof c.body === 'string' && c.body.trimStart().startsWith(marker));
            if (existing)
                break;
        }
        if (existing) {
            step = `update its earlier comment (${existing.id}) on`;
            try {
                const updated = await octokit.rest.issues.updateComment({
                    owner,
                    repo,
                    comment_id: existing.id,
                    body
                });
                logger.info(`Updated the upload summary on ${where}${at(updated.data.html_url)}.`);
                return { action: 'updated', ...(updated.data.html_url ? { url: updated.data.html_url } : {}) };
            }
            catch (error) {
                // Deleted since it was listed (someone tidied the thread): post it afresh, below.
                if (asRecord(error)?.status !== 404)
                    throw error;
                logger.debug(`The comment ${existing.id} on ${where} is gone; posting a new one.`);
            }
        }
        step = 'comment on';
        const created = await octokit.rest.issues.createComment({ owner, repo, issue_number: pr.number, body });
        logger.info(`Posted the upload summary on ${where}${at(created.data.html_url)}.`);
        return { action: 'created', ...(created.data.html_url ? { url: created.data.html_url } : {}) };
    }
    catch (error) {
        return skip('warning', explainFailure(error, step, where, pr));
    }
}
/** The login of the default GITHUB_TOKEN, which may not read /user. */
const DEFAULT_TOKEN_LOGIN = 'github-actions[bot]';
/**
 * Who the token writes comments as. A personal token may read /user; an installation token such as the
 * default GITHUB_TOKEN gets 403 there, and its comments are written by github-actions[bot].
 */
async function tokenLogin(octokit) {
    try {
        return (await octokit.rest.users.getAuthenticated()).data.login;
    }
    catch (error) {
        if (asRecord(error)?.status === 403)
            return DEFAULT_TOKEN_LOGIN;
        throw error;
    }
}
/** ` at <url>` when GitHub gave the comment's address; nothing when it did not. */
function at(url) {
    return url ? ` at ${url}` : '';
}
/** Says what went wrong in words that tell the reader what to change. */
function explainFailure(error, step, where, pr) {
    const status = asRecord(error)?.status;
    const detail = errorMessage(error);
    const fork = pr.forkRepository
        ? ` The pull request comes from the fork ${pr.forkRepository}: its workflows get a read-only token.`
        : '';
    if (status === 401) {
        return `GitHub refused the token (401 ${detail}) when trying to ${step} ${where}. Check github-token`;
    }
    if (status === 403 || status === 404) {
        return `GitHub answered ${status} (${detail}) when trying to ${step} ${where}.${fork} ${PERMISSION_HINT}`;
    }
    if (isTimeout(error)) {
        return `GitHub did not answer in time when trying to ${step} ${where}`;
    }
    return `could not ${step} ${where}: ${typeof status === 'number' ? `${status} ` : ''}${detail}`;
}
function errorMessage(error) {
    const text = error instanceof Error ? error.message : String(error);
    const line = text.split('\n')[0] ?? '';
    return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
function isTimeout(error) {
    for (let e = error, depth = 0; e && depth < 5; e = asRecord(e)?.cause, depth++) {
        const name = asRecord(e)?.name;
        if (name === 'TimeoutError' || name === 'AbortError')
            return true;
    }
    return false;
}
/** The token goes only to GitHub over https (or this machine, for tests). */
function refuseApiUrl(apiUrl) {
    let url;
    try {
        url = new URL(apiUrl);
    }
    catch {
        return `GITHUB_API_URL "${apiUrl}" is not a URL`;
    }
    if (url.protocol === 'https:')
        return null;
    if (url.protocol === 'http:' && (0,_net_js__WEBPACK_IMPORTED_MODULE_2__/* .isLoopbackHost */ .c)(url.hostname))
        return null;
    return `GITHUB_API_URL ${url.origin} is not https: the token is not sent over plain http`;
}
/** Keeps the body within GitHub's limit, saying so when it had to cut. */
function fitComment(body) {
    if (body.length <= GITHUB_COMMENT_MAX_CHARS)
        return body;
    const note = '\n\n_The summary was cut to fit a pull-request comment; the job summary has all of it._\n';
    let cut = body.slice(0, GITHUB_COMMENT_MAX_CHARS - note.length);
    // A cut between the two halves of a surrogate pair would leave a broken character.
    if (/[\uD800-\uDBFF]$/.test(cut))
        cut = cut.slice(0, -1);
    return cut + note;
}
/** Never print the token, even when GitHub or a library echoes it. */
function scrub(text, token) {
    return token.trim().length >= 4 ? text.split(token.trim()).join('***') : text;
}
function asRecord(value) {
    return typeof value === 'object' && value !== null ? value : undefined;
}
function fullName(repo) {
    const name = asRecord(repo)?.full_name;
    return typeof name === 'string' && name.includes('/') ? name : undefined;
}


/***/ })

};
