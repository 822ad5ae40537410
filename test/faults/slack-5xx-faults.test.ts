// Slack answering HTTP 500 and ok:false during each notification: see notification-faults.ts.
import { describeNotificationFaults, FAULT_KINDS } from './notification-faults.js';

describeNotificationFaults([FAULT_KINDS.http500, FAULT_KINDS.okFalse]);
