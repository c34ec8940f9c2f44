import { IsInt, IsString, Matches, Max, Min } from 'class-validator';

export class CreateOrderDto {
  @IsString()
  @Matches(/^[A-Za-z0-9-]{1,32}$/, { message: 'productId must be 1-32 letters, digits or dashes' })
  productId!: string;

  @IsInt({ message: 'quantity must be a positive integer' })
  @Min(1, { message: 'quantity must be a positive integer' })
  @Max(1_000_000)
  quantity!: number;
}
