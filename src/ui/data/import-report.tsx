import { formatDuration } from '../../data/limits';
import { useState } from 'react';
import { plural } from '../format';
import { ISSUE_LABELS, type ImportIssue, type ImportReport, type IssueKind } from '../../data/report';

/** One import's outcome: counts, then every rejected, changed or ignored thing grouped by reason. */
export function ImportReportView({ report, testId = 'import-report' }: { report: ImportReport; testId?: string }) {
  const groups = new Map<IssueKind, ImportIssue[]>();
  for (const issue of report.issues) {
    const list = groups.get(issue.kind) ?? [];
    list.push(issue);
    groups.set(issue.kind, list);
  }
  return (
    <section className="import-report" data-testid={testId} data-dataset={report.datasetName} data-elapsed-ms={Math.round(report.elapsedMs)} data-timings={JSON.stringify(report.timings ?? {})}>
      <h3>
        {report.datasetName} — {report.formatName}
      </h3>
      <p>
        <span data-testid="count-accepted">{report.accepted}</span> imported (
        <span data-testid="count-changed">{report.changed}</span> with normalized text),{' '}
        <span data-testid="count-rejected">{report.rejected}</span> rejected,{' '}
        <span data-testid="count-ignored">{report.ignored}</span> ignored · {formatDuration(report.audioSeconds)} of audio ·{' '}
        {(report.elapsedMs / 1000).toFixed(1)} s{report.cancelled ? ' · cancelled, nothing was kept' : ''}
      </p>
      <SplitSources report={report} />
      {[...groups].map(([kind, issues]) => (
        <IssueGroup key={kind} kind={kind} issues={issues} />
      ))}
    </section>
  );
}

const SHOWN = 200;
const SOURCES_SHOWN = 12;

/** Which file's utterances became which split, and how validation was completed. */
function SplitSources({ report }: { report: ImportReport }) {
  const sources = report.splitSources ?? [];
  // thousands of per-clip transcript files that name no split say nothing the note does not
  const list = sources.some((s) => s.split) || sources.length <= SOURCES_SHOWN ? sources : [];
  if (list.length === 0 && !report.splitNote) return null;
  return (
    <div data-testid="split-sources">
      {list.length > 0 && (
        <ul aria-label="Splits by file">
          {list.slice(0, SOURCES_SHOWN).map((s) => (
            <li key={s.file}>
              <code>{s.file}</code> → {s.split ?? 'no split named'} ({plural(s.utterances, 'utterance')})
            </li>
          ))}
          {list.length > SOURCES_SHOWN && <li>… and {plural(list.length - SOURCES_SHOWN, 'more file')}</li>}
        </ul>
      )}
      {report.splitNote && <p>{report.splitNote}</p>}
    </div>
  );
}

/** One reason with its files. The list is only rendered while open: a big import has thousands. */
function IssueGroup({ kind, issues }: { kind: IssueKind; issues: ImportIssue[] }) {
  const [open, setOpen] = useState(issues.length <= 5);
  return (
    <details data-testid={`issues-${kind}`} data-count={issues.length} open={open} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>
        {ISSUE_LABELS[kind]} ({issues.length}, {issues[0].severity})
      </summary>
      {open && (
        <ul>
          {issues.slice(0, SHOWN).map((i, k) => (
            <li key={k}>
              <code>
                {i.file}
                {i.line !== undefined ? `:${i.line}` : ''}
                {i.field ? ` [${i.field}]` : ''}
              </code>{' '}
              {i.message}
            </li>
          ))}
          {issues.length > SHOWN && <li>… and {issues.length - SHOWN} more</li>}
        </ul>
      )}
    </details>
  );
}
