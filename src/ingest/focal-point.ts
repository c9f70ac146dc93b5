import { AppError } from '../errors.js';
import { parseFocalPoint, type FocalPoint } from './image-record.js';

/**
 * The focal point as each door carries it, validated here and nowhere else: `x,y` text (the
 * Image-Focus header, a form field, tus metadata) or `{"x": .., "y": ..}` (a JSON member, the
 * PATCH body), each from 0 (left, top) to 1. Anything else: 400 invalid_focus, naming where
 * the value came from.
 */
export function focusFromText(text: string, where: string): FocalPoint {
  const focus = parseFocalPoint(text);
  if (focus === undefined) throw invalidFocus(where, '"x,y", each from 0 to 1');
  return focus;
}

export function focusFromJson(value: unknown, where: string): FocalPoint {
  const unit = (n: unknown): n is number =>
    typeof n === 'number' && Number.isFinite(n) && n >= 0 && n <= 1;
  const { x, y } = (typeof value === 'object' && value !== null ? value : {}) as {
    x?: unknown;
    y?: unknown;
  };
  if (!unit(x) || !unit(y)) throw invalidFocus(where, '{"x": <0 to 1>, "y": <0 to 1>}');
  return { x, y };
}

/**
 * An upload's one focal point: the Image-Focus header (any door) or the body's own (a form
 * field, a JSON member, tus metadata), not both.
 */
export function oneFocus(
  header: FocalPoint | undefined,
  body: FocalPoint | undefined,
): FocalPoint | undefined {
  if (header !== undefined && body !== undefined) {
    throw new AppError('invalid_focus', {
      message: 'The focal point was given twice: send it either as Image-Focus or in the body.',
    });
  }
  return header ?? body;
}

function invalidFocus(where: string, form: string): AppError {
  return new AppError('invalid_focus', {
    message: `The focal point in ${where} is not valid: it must be ${form}.`,
  });
}
