import { changeWithText, STATUS_WORDS, statusCounts } from './evaluate.ts';
import type { Report } from './model.ts';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The report as Markdown: one table per framework (`keybound report --format md`). */
export function reportMarkdown(report: Report): string {
  const counts = statusCounts(report);
  const lines = [
    '# Keybound standards report',
    '',
    `Generated ${report.generatedAt} from this installation's configuration and data. ${counts.met} met, ${counts.partial} partly met, ${counts.not_met} not met, ${counts.not_applicable} not applicable.`,
  ];
  for (const f of report.frameworks) {
    lines.push('', `## ${f.title}`, '', '| Control | Status | Evidence | Change with |', '| --- | --- | --- | --- |');
    for (const c of f.controls) {
      lines.push(`| ${cell(`${c.id} ${c.title}`)} | ${STATUS_WORDS[c.status]} | ${cell(c.evidence.join('; '))} | ${cell(changeWithText(c.changeWith).replace(/^Change with: /, ''))} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}
