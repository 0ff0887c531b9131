/** A labelled progress bar (0–100); `<progress>` is announced by screen readers with its label. */
export function ProgressBar({
  value,
  label,
  valueText,
}: {
  value: number;
  label: string;
  valueText: string;
}) {
  const clamped = Math.max(0, Math.min(100, value));
  return (
    <div className="progress">
      <progress max={100} value={clamped} aria-label={label} aria-valuetext={valueText} />
      <span className="progress-value" aria-hidden="true">
        {valueText}
      </span>
    </div>
  );
}
