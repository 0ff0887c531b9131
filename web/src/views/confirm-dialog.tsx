import { useRef } from 'react';
import { useModalDialog } from './use-modal-dialog.js';

export interface ConfirmRequest {
  title: string;
  body: string;
  confirmLabel: string;
  cancelLabel: string;
  onConfirm(): void;
}

/** A modal question (native <dialog>: focus stays inside and returns after, Escape closes it). */
export function ConfirmDialog({ request, onClose }: { request: ConfirmRequest | null; onClose(): void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useModalDialog(ref, request !== null);
  return (
    <dialog ref={ref} className="dialog" aria-labelledby="confirm-title" onClose={onClose}>
      {request ? (
        <form method="dialog">
          <h2 id="confirm-title">{request.title}</h2>
          <p>{request.body}</p>
          <div className="dialog-actions">
            <button type="submit" value="cancel">
              {request.cancelLabel}
            </button>
            <button
              type="button"
              className="danger"
              onClick={() => {
                request.onConfirm();
                onClose();
              }}
            >
              {request.confirmLabel}
            </button>
          </div>
        </form>
      ) : null}
    </dialog>
  );
}
