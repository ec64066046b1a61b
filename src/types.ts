// Contracts shared by the modules of the action. Each module knows one thing: the Kognic client knows
// nothing of GitHub, the report knows nothing of HTTP. These types are what passes between them.

/** What a module may say to the person reading the log. `core` satisfies it; tests pass a recorder. */
export interface Logger {
  debug(message: string): void
  info(message: string): void
  /** An annotation that is neither a warning nor an error: the overall result of a run that passed. */
  notice(message: string, props?: AnnotationProps): void
  warning(message: string, props?: AnnotationProps): void
  error(message: string, props?: AnnotationProps): void
}

export interface AnnotationProps {
  title?: string
  file?: string
  startLine?: number
  startColumn?: number
}

/** Time, injected so retries and token expiry can be tested without waiting. */
export interface Clock {
  now(): number
  sleep(ms: number, signal?: AbortSignal): Promise<void>
  random(): number
}

/** One entry of a segmentation class mapping, as Kognic takes it. */
export interface ClassMappingEntry {
  annotated: string
  predicted?: string
}

/** One problem found in a prediction file. `jsonPath` is like `frames.0.objects.<id>.object_data.bbox[0].val`. */
export interface Problem {
  /** Stable kind, for grouping in the summary, e.g. `bbox-size`, `json-syntax`, `scene-id`. */
  kind: string
  /** JSON path inside the file; '' when the problem is the file as a whole. */
  jsonPath: string
  message: string
  /** 1-based line and column in the file, where known. */
  line?: number
  column?: number
  /**
   * `warning`: reported, and the file is still uploaded in `validation: strict`. `error` (or absent: fatal
   * problems, and any a module does not grade) blocks it. The OpenLABEL rules and their grades: RULES in
   * predictions/validate.ts.
   */
  severity?: 'error' | 'warning'
}

/** What the checks learned of one matched file; the content itself is not kept, only its hash. */
export interface InspectedFile {
  /** Absolute real path (symbolic links resolved): what is opened, at the check and at the upload. */
  path: string
  /** Path relative to the workspace, with forward slashes: what people see. */
  displayPath: string
  /** The bytes that were checked; 0 when the file could not be read. */
  sizeBytes: number
  /** Device and inode of the file that was checked (`<dev>:<ino>`); null when it could not be opened. */
  identity: string | null
  /** SHA-256 of the bytes that were checked, hex; null when they could not be read. */
  contentSha256: string | null
  /** null when it could not be determined (the file failed). */
  sceneUuid: string | null
  /**
   * `openlabel`: the file is an OpenLABEL document named <sceneUuid>.json; `request`: a whole request body;
   * `results`: a results file this action wrote, not a prediction.
   */
  form: 'openlabel' | 'request' | 'results' | null
  /** True when any `image` (segmentation) geometry is present. */
  hasSegmentation: boolean
  /** Segmentation class names: the values of `ontologies.*.classifications`. */
  segmentationClasses: string[]
  /** Problems that make the file unusable whatever `validation` says (unreadable, not JSON, no scene). */
  fatal: Problem[]
  /** OpenLABEL rule violations; what happens to them depends on `validation`. */
  problems: Problem[]
  /** Problems beyond those kept in `problems` (a handful are kept per file). */
  moreProblems: number
}

/** `already-uploaded`: an earlier run's results file says this content is in the group (resume-from). */
/** A matched path that is not a prediction file to upload, and why: a note in the report. */
export interface SkippedPath {
  displayPath: string
  reason: string
}

export type FileStatus =
  'uploaded' | 'already-uploaded' | 'failed' | 'invalid' | 'would-upload' | 'not-attempted'

/** The fate of one matched file: one entry per file in the results file. */
export interface FileResult {
  path: string
  sceneUuid: string | null
  status: FileStatus
  predictionUuid: string | null
  attempts: number
  /** An attempt that may have reached Kognic was retried: it may hold two copies. */
  possibleDuplicate: boolean
  error: string | null
  /** SHA-256 of the bytes checked and sent, hex: how a later run knows the same content (resume-from). */
  contentSha256: string | null
  problems: Problem[]
  /** Problems found beyond those listed in `problems` (a handful are kept per file). */
  moreProblems?: number
  /**
   * Why an invalid or failed file was not uploaded, as a stable kind for grouping (`json-syntax`,
   * `duplicate-scene`, `upload-failed`): said by the step that refused it, since `problems` may hold
   * only warnings. Not written to the results file.
   */
  reasonKind?: string
}
