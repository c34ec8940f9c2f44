import { BadRequestException, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';

/** Far deeper than any DTO of the services, far shallower than what overflows a recursive transformer. */
export const MAX_BODY_DEPTH = 32;

/**
 * Refuses a request body nested deeper than `maxDepth` with 400 `body_malformed`, before the
 * ValidationPipe: class-transformer and class-validator recurse through a body, so one nested a few
 * thousand levels deep (a few kilobytes of `[[[[…`) would overflow the stack and be answered 500.
 * Counted without recursion, so the check itself cannot overflow.
 */
export class BodyDepthPipe implements PipeTransform {
  constructor(private readonly maxDepth = MAX_BODY_DEPTH) {}

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'body' && depthExceeds(value, this.maxDepth)) {
      throw new BadRequestException({
        statusCode: 400,
        error: 'Bad Request',
        reason: 'body_malformed',
        message: `The body is nested more than ${this.maxDepth} levels deep`,
      });
    }
    return value;
  }
}

function depthExceeds(root: unknown, maxDepth: number): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value: root, depth: 0 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= maxDepth) return true;
    for (const child of Object.values(value)) stack.push({ value: child, depth: depth + 1 });
  }
  return false;
}
