// Slack answering 429 with Retry-After during each notification: see notification-faults.ts.
import { describeNotificationFaults, FAULT_KINDS } from './notification-faults.js';

describeNotificationFaults([FAULT_KINDS.rateLimited]);
