import { z } from 'zod';
import { ERROR_CATALOG } from './error-catalog.js';
import { CONTRACT_VERSION, jobListSchema, jobSchema, problemSchema, submitJobFieldsSchema } from './job.js';
import { CONTENT_SUBTYPES, JOB_TYPES, OUTPUT_FORMATS, SUPPORTED_INPUTS } from './job-kinds.js';
import { JOB_STATUSES, JOB_TRANSITIONS, TERMINAL_STATUSES } from './job-status.js';

/** What `GET /v1/contract` serves: everything a client needs to speak to this service. */
export function buildContractDocument() {
  return {
    contract_version: CONTRACT_VERSION,
    enums: {
      job_type: JOB_TYPES,
      status: JOB_STATUSES,
      content_subtype: CONTENT_SUBTYPES,
      output_format: OUTPUT_FORMATS,
    },
    state_machine: { transitions: JOB_TRANSITIONS, terminal: TERMINAL_STATUSES },
    supported_inputs: SUPPORTED_INPUTS.map(({ mime, ext, jobType }) => ({ mime, ext, job_type: jobType })),
    error_catalog: Object.fromEntries(
      Object.entries(ERROR_CATALOG).map(([code, e]) => [
        code,
        {
          http_status: e.status,
          retryable: e.retryable,
          class: e.errorClass,
          title: e.title,
          message: e.message,
        },
      ]),
    ),
    schemas: {
      job: z.toJSONSchema(jobSchema),
      job_list: z.toJSONSchema(jobListSchema),
      submit_fields: z.toJSONSchema(submitJobFieldsSchema, { io: 'input' }),
      problem: z.toJSONSchema(problemSchema),
    },
  };
}
