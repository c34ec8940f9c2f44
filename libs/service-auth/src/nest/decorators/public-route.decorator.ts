import { SetMetadata } from '@nestjs/common';
import { PUBLIC_ROUTE_METADATA } from '../options/service-auth.constants.js';

/** Opts a controller or handler out of service authentication (health checks, edge endpoints). */
export const PublicRoute = () => SetMetadata(PUBLIC_ROUTE_METADATA, true);
